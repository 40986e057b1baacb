-- Placeholder: the feed filters' migration (issue 19, another branch) holds this number. It is here
-- only so this branch's migrations count 1..N without a gap; the merge takes the other file's text.
SELECT 1;

-- Placeholder on the replies branch only, so 014 applies without a gap; the real 013 comes from a parallel branch.
-- Drop this file when merging.
SELECT 1;

"""What generated text and names are drawn from: series, words, replies, apps, badges, communities."""

from __future__ import annotations

# (name, tag, kind): accents, colons, "×", "!" and ";" on purpose, since title parsing must cope.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("Frieren: Beyond Journey's End", "frieren", "anime"),
    ("Pokémon", "pokemon", "anime"),
    ("Re:Zero − Starting Life in Another World", "rezero", "anime"),
    ("Metallic Rouge", "metallicrouge", "anime"),
    ("Spy × Family", "spyxfamily", "anime"),
    ("Jujutsu Kaisen", "jujutsukaisen", "manga"),
    ("One Piece", "onepiece", "manga"),
    ("Attack on Titan", "attackontitan", "anime"),
    ("Chainsaw Man", "chainsawman", "manga"),
    ("Demon Slayer: Kimetsu no Yaiba", "demonslayer", "anime"),
    ("Fullmetal Alchemist: Brotherhood", "fullmetalalchemist", "anime"),
    ("Neon Genesis Evangelion", "evangelion", "anime"),
    ("Cowboy Bebop", "cowboybebop", "anime"),
    ("Steins;Gate", "steinsgate", "anime"),
    ("Mob Psycho 100", "mobpsycho100", "anime"),
    ("Oshi no Ko", "oshinoko", "anime"),
    ("Bocchi the Rock!", "bocchitherock", "anime"),
    ("Dr. Stone", "drstone", "manga"),
    ("Made in Abyss", "madeinabyss", "manga"),
    ("Vinland Saga", "vinlandsaga", "manga"),
    ("Violet Evergarden", "violetevergarden", "anime"),
    ("K-On!", "kon", "anime"),
    ("Haikyu!!", "haikyu", "manga"),
    ("Kaguya-sama: Love Is War", "kaguyasama", "anime"),
    ("Mushoku Tensei: Jobless Reincarnation", "mushokutensei", "anime"),
    ("The Apothecary Diaries", "apothecarydiaries", "anime"),
    ("Delicious in Dungeon", "dungeonmeshi", "manga"),
    ("Solo Leveling", "sololeveling", "manga"),
    ("Blue Lock", "bluelock", "manga"),
    ("Berserk", "berserk", "manga"),
    ("Naruto Shippūden", "naruto", "anime"),
    ("Bleach: Thousand-Year Blood War", "bleach", "anime"),
    ("Hunter × Hunter", "hunterxhunter", "manga"),
    ("JoJo's Bizarre Adventure", "jojo", "manga"),
    ("Sailor Moon", "sailormoon", "anime"),
    ("Dragon Ball Z", "dragonballz", "anime"),
    ("Tokyo Ghoul:re", "tokyoghoul", "manga"),
    ("Puella Magi Madoka★Magica", "madokamagica", "anime"),
    ("Gintama°", "gintama", "anime"),
    ("86 EIGHTY-SIX", "eightysix", "anime"),
    ("Cyberpunk: Edgerunners", "edgerunners", "anime"),
    ("Lycoris Recoil", "lycorisrecoil", "anime"),
)

SUBTITLES = (
    "Mars, Machines, and Meaning",
    "a slow burn that pays off",
    "why the quiet episodes matter",
    "¿vale la pena?",
    "the best arc so far",
    "first impressions ✨",
    "animation, music & pacing",
    "a spoiler-free look",
    "what the adaptation changed",
    "my verdict after the finale",
    "grief, time and friendship",
    "hype vs. reality",
)

WORD_TEXT = (
    "the story animation character arc episode season studio pacing soundtrack opening ending villain hero "
    "friendship journey world magic battle scene moment plot twist finale adaptation manga chapter panel "
    "art style direction voice acting cast theme emotion memory time quiet loud fast slow beautiful "
    "strange honest brilliant messy clever gentle brutal warm cold bright dark simple complex really "
    "almost never always often sometimes maybe clearly quietly and but because while although when "
    "after before during with without about through between every each this that these those my your "
    "their our I you we they it is was feels felt seems seemed works worked lands landed builds built "
    "shows showed hides revealed carries carried keeps kept drops dropped deserves deserved a an of to "
    "in on for from by as at than more less most least very quite rather pretty truly"
)
WORDS = tuple(WORD_TEXT.split())

REPLY_TEXTS = (
    "Great review!",
    "Interesante propuesta.",
    "Looks so nice. Good post 👍",
    "I had the same feeling about the ending.",
    "Adding this to my watchlist, thanks!",
    "Hard disagree on the pacing, but well written.",
    "The soundtrack really is something else.",
    "¡Excelente reseña! Me dieron ganas de verla.",
    "Did you read the manga too? The anime skips a lot.",
    "Congratulations, your post has been curated by the Anime Realm team.",
)

APPS = ("peakd/2024.5.2", "ecency/3.2.1", "hiveblog/0.1", "inleo/0.3", "liketu/1.0")
BADGES = (
    # (image name, sentence with {n}, sentence with {m})
    ("upvotes", "You distributed more than {n} upvotes.", "Your next target is to reach {m} upvotes."),
    ("upvoted", "You received more than {n} upvotes.", "Your next target is to reach {m} upvotes."),
    ("posts", "You published more than {n} posts.", "Your next target is to reach {m} posts."),
    ("comments", "You made more than {n} comments.", "Your next target is to reach {m} comments."),
    ("replies", "You got more than {n} replies.", "Your next target is to reach {m} replies."),
    (
        "payout",
        "You received more than {n} HP as payout for your posts, comments and curation.",
        "Your next payout target is {m} HP.",
    ),
)
BADGE_STEPS = (10, 50, 100, 200, 300, 400, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000)
COMMUNITY_NUMBERS = (
    167922, 174578, 148441, 194913, 163772, 180932, 122108, 196037, 161155, 139531, 110369, 193552,
    120586, 176853, 107605, 112019, 195284, 147010, 124452, 105017, 102930, 150329, 181335, 196708,
)
OTHER_COMMUNITIES = (*(f"hive-{n}" for n in COMMUNITY_NUMBERS), "photography", "leofinance", "gaming",
                      "life", "travel", "food")
SM_IDS = (
    "sm_find_match", "sm_submit_team", "sm_team_reveal", "sm_claim_reward", "sm_stake_tokens",
    "sm_market_purchase", "sm_sell_cards", "sm_combine_cards", "sm_token_transfer",
)
SSC_ACTIONS = (
    ("tokens", "transfer"), ("tokens", "stake"), ("market", "buy"), ("market", "sell"),
    ("market", "cancel"), ("nft", "transfer"), ("marketpools", "swapTokens"),
)
SSC_TOKENS = ("SWAP.HIVE", "LEO", "SPS", "DEC", "BEE", "POB", "VKBT", "CENT", "SWAP.HBD", "ALIVE")
WITNESSES = ("blocktrades", "gtg", "arcange", "deathwing", "good-karma", "roelandp", "themarkymark",
              "stoodkev", "quochuy", "ausbitbank", "yabapmatt", "steempeak", "therealwolf", "emrebeyler")
B36 = "abcdefghijklmnopqrstuvwxyz0123456789"

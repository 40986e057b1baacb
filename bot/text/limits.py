"""Discord's limits: it answers 400 past them, and discord.py does not check."""

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
MAX_CHOICES = 25  # autocomplete choices in one answer
CHOICE_MAX = 100  # an autocomplete choice's name and value
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100  # a component's custom_id
SELECT_OPTION_MAX = 100  # a select option's label and description
COMPONENTS_MAX = 25  # buttons on one message: five rows of five

"""`python -m bot.services.campaigns create|report|cancel|list …`: the staff command line."""
from bot.services.campaigns.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

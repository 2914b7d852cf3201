"""``python -m integrations.providers.greenhouse.fake --port 8002 --partner-url URL``."""

from .server import main

if __name__ == "__main__":
    main()

"""``python -m integrations.providers.ashby.fake --port P --partner-url URL``: run until Ctrl-C."""

from .server import main

if __name__ == "__main__":
    main()

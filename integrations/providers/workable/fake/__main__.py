"""``python -m integrations.providers.workable.fake --port P --partner-url URL``: run it until
Ctrl-C."""

from .server import main

if __name__ == "__main__":
    main()

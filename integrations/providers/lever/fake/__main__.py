"""``python -m integrations.providers.lever.fake --port 8089``: run the fake until Ctrl-C."""

from .server import main

if __name__ == "__main__":
    main()

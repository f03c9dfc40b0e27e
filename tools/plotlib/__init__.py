"""Python helpers behind reprotorch's plot tools (run with Debian's /usr/bin/python3)."""

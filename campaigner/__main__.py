"""`python -m campaigner` runs the same app as the console script."""

from campaigner.cli import main

if __name__ == "__main__":
    main()

"""`python -m entragit`: the same CLI as the `entragit` script."""

from entragit.cli import main

if __name__ == "__main__":
    main()

import multiprocessing
import sys

if __name__ == "__main__":
    # In the packaged app, a helper process (a large import's second half) starts this same
    # executable: freeze_support() runs the helper's work and exits before Sheaf starts.
    multiprocessing.freeze_support()

    from desktop.cli import main

    sys.exit(main())

"""`python -m stylegan_studio.app` (or `python -m app` from a checkout) runs the studio."""
import sys

from stylegan_studio.app.main import main

if __name__ == "__main__":  # a spawned worker process (Make Faces) imports this module without running it
    sys.exit(main())

"""`python -m stylegan_studio.app` (or `python -m app` from a checkout) runs the studio."""
import sys

from stylegan_studio.app.main import main

sys.exit(main())

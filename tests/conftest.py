import os

# Tests compile fresh and leave the user's compilation cache alone.
os.environ.setdefault("JAXLSTM_CACHE_DIR", "")

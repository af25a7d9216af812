"""Files and text → clean, outline-split chunks. Knows nothing of chat or stores."""

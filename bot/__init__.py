"""The chat face of Zhibu: a transport-free dialogue core and its Telegram and terminal transports."""

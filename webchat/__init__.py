"""The secretaries' web chat (`zhibu web`): the dialogue core on a phone browser, invitations, shared state."""

"""Zhibu (支部): the command line and the settings shared by the four packages."""

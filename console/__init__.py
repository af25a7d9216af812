"""The staff console (`zhibu console`): FastAPI, server-rendered Jinja2 pages, no JavaScript build."""

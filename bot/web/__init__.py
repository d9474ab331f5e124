"""The process's one web server: the platforms' webhooks, `/healthz`, and the office's web desk.

`server.WebServer` runs `app.build_app` (Starlette) on uvicorn inside the bot's event loop.
Channels hand in their webhook `Endpoint`s (path + accept); the app knows no platform. The desk
(`desk.py`, Jinja2 templates in `templates/`) shows the same data through the same domain
functions as the chat, and decides access through `bot.access` only. `links.py` makes the
short-lived signed file links other code sends to chats without file upload.
"""

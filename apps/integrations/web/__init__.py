"""The browser as a chat platform: people of a company ask its agents on the company's own
site (``/chat/<agent>/``), answered by the same pipeline as in Slack, streamed over a
WebSocket (``chat.WebChat`` implements the chat contract, ``consumers.WebChatConsumer`` takes
the questions)."""

"""Local stand-ins for Telegram's and Tencent's servers, speaking their wire protocols over real HTTP."""

"""The tests are packages (`tests.handlers.chatkit`, ...): pytest puts only the project root on sys.path, so a
test folder named like a project package (tests/storage, tests/rules) can never shadow it. Import the test kits
by their full name: `from tests.handlers.chatkit import ChatBot`."""

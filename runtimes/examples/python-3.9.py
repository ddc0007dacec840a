# Python 3.9 added dictionary union operators and str.removeprefix/removesuffix.
defaults = {"theme": "light", "font_size": 14}
chosen = {"theme": "dark"}

settings = defaults | chosen          # union: the right-hand side wins
print("settings:", settings)

settings |= {"line_numbers": True}    # in-place union
print("with line numbers:", settings)

for name in ["test_parser.py", "test_lexer.py", "setup.py"]:
    print(name.removeprefix("test_").removesuffix(".py"))

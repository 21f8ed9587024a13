"""What run.py and the locustfile both make of numbers: parts of names."""

# A TOTP code works once: a second sign-in of one account waits for the next step.
CODE_STEP_SECONDS = 30


def letters(number: int, width: int) -> str:
    """`number` in base 26 as `width` capital letters (names and initials
    allow only letters, and must be unique)."""
    out = ""
    for _ in range(width):
        number, digit = divmod(number, 26)
        out = chr(ord("A") + digit) + out
    return out

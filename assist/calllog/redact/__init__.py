"""Redaction of sensitive data in live transcripts (English and Chinese) before they are stored or shown.

Pure logic, no I/O. A redaction is recorded by kind and position, never by value.

The flow, one module per stage (text -> pattern hits -> tokens -> items -> runs -> hits -> redacted text):
1. ``patterns``: data with a written shape (e-mail, IBAN, 123-45-6789, formatted phone numbers, 04/27, 2027年4月)
   is found first and claims its spans.
2. ``tokens``: the rest is tokenised.
3. ``items``: numerals, English number words ("oh", "double four", "twenty seven") and Chinese digit characters
   become digit items; amounts, counts, durations, years and dates are marked to be left alone.
4. ``runs``: maximal runs of digit items are formed across spaces, dashes, commas and periods, and each run is cut
   into segments that cover the most digits: a card (Luhn), a Chinese resident ID (MOD 11-2), a Chinese mobile, or
   whatever the nearest context keyword allows ("security code" -> 3-4 digits).
5. ``redactor``: the hits replace their spans with placeholders; ``CallRedactor`` keeps the call's context.
Context keywords (``context``) are remembered for the last two utterances of the call, whoever said them, because
the agent asks and the customer answers. ``kinds`` holds the vocabulary every stage shares, and ``checksums`` what
digits alone can tell (check digits, an expiry's shape).

Why split so: each stage has one input and one output and is read (and tuned) on its own, with its own word lists
and regexes beside it. Imports point one way: kinds and checksums import nothing of the package; context, patterns
and tokens at most those two; items imports tokens, runs imports items, and redactor imports the stages. Import the
public names from this package, not from its modules.
"""

from __future__ import annotations

from assist.calllog.redact.kinds import REDACTION_KINDS, Redacted, Redaction
from assist.calllog.redact.redactor import INTERIM_MASK_DIGITS, CallRedactor, Redactor, redact_words

__all__ = [
    "INTERIM_MASK_DIGITS",
    "REDACTION_KINDS",
    "CallRedactor",
    "Redacted",
    "Redaction",
    "Redactor",
    "redact_words",
]

"""The binding's exceptions: every failure the library reports comes back as a
StopwiseError carrying the library's one-line message and status."""

# sw_status values (include/stopwise/base.h) by short names, the enum's own
# (SW_ERR_NOT_FOUND -> "not_found"); sw_status_str gives the long ones.
STATUS_NAMES = {
    0: "ok",
    1: "invalid",
    2: "format",
    3: "not_found",
    4: "version",
    5: "connect",
    6: "io",
    7: "nomem",
    8: "state",
    9: "busy",
    10: "internal",
}


class StopwiseError(Exception):
    """A failure reported by libstopwise (or by the binding in its name).

    message   the library's message: one line naming the file, line, column or
              value and what was expected ("policy character 10 ('x' in
              'patience=x'): patience needs a whole number ...")
    status    the short status name: "invalid", "format", "not_found",
              "version", "connect", "io", "nomem", "state", "busy", "internal"
    code      the numeric sw_status
    position  for a policy that does not parse, the 1-based character of the
              policy text the message points at; None otherwise
    width     the length of the faulty part at `position` (0 for a value left
              empty); None without a position
    text      the text that failed to parse (policies), else None
    """

    def __init__(self, message, code=1, position=None, width=None, text=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = STATUS_NAMES.get(code, "unknown")
        self.position = position
        self.width = width
        self.text = text

    def caret(self):
        """The policy text with a line of carets under the faulty part, for
        messages to people ("" without a position)."""
        if self.position is None or self.text is None:
            return ""
        return "%s\n%s%s" % (self.text, " " * (self.position - 1), "^" * max(1, self.width or 0))


class LibraryNotFoundError(StopwiseError):
    """libstopwise.so could not be loaded: `looked` lists every place tried,
    each as (where, path or name, why not)."""

    def __init__(self, message, looked):
        super().__init__(message, code=3)
        self.looked = looked

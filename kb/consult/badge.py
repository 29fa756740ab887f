"""The consulting centre's menu label with the person's unread-notification counter."""

from markupsafe import Markup, escape


class ConsultNavLabel:
    """Renders as «Консультативный центр (3)» when the person has unread notifications.

    Jinja calls ``__html__`` when the navigation prints the label, i.e. inside a request;
    the count reads without any stylesheet (the navigation's CSS is shared).
    """

    def __init__(self, label):
        self.label = label

    def __str__(self) -> str:
        return str(self.label)

    def __html__(self) -> str:
        from flask_babel import gettext as _

        from kb.consult.service import unread_count_for_current_user

        count = unread_count_for_current_user()
        text = escape(str(self.label))
        if not count:
            return str(text)
        badge = Markup(' <span class="nav-badge" title="{}">({})</span>').format(
            _("Непрочитанных уведомлений: %(n)s", n=count), count
        )
        return str(text + badge)

"""The email channel (CONTRACT §10): one message per statement to every recipient in `Bcc`, over
SMTP with the standard library (STARTTLS when offered, `smtps://` for TLS from the start).

compose() and message() are pure; EmailClient is the only part that opens a connection, and it
never sends a password over a connection that is not encrypted.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, parseaddr
from urllib.parse import quote, unquote, urlsplit

import grapheme
from markupsafe import Markup, escape

from balise import french
from balise.announce import CHANNELS
from balise.announce.compose import Post, Templates, correction_text, permalink, status_line
from balise.announce.network import (
    DEFAULT_BACKOFF,
    Backoff,
    BadSetting,
    PostFailed,
    Sent,
    read_credentials,
    with_retries,
)
from balise.announce.plan import publication
from balise.model import Repository, Statement
from balise.text.markdown import body_text, feed_body_html
from balise.timeline import Snapshot

ENVIRONMENT = ("BALISE_SMTP_URL", "BALISE_EMAIL_FROM", "BALISE_EMAIL_TO")
OPTIONAL = True  # on only when its settings are present
DELETES = False  # a message cannot be taken back: `post --retract` sends a correction
TEXT_TEMPLATE = "posts/email.txt"
HTML_TEMPLATE = "posts/email.html"
PORTS = {"smtp": 587, "smtps": 465}  # message submission (RFC 6409), submissions (RFC 8314)
UNSUBSCRIBE_SUBJECT = "Désinscription de la liste de diffusion"


@dataclass(frozen=True)
class EmailSettings:
    """Where and how to send, from BALISE_SMTP_URL, BALISE_EMAIL_FROM and BALISE_EMAIL_TO."""

    tls: bool  # smtps://: TLS from the first byte; smtp://: STARTTLS when offered
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...] = field(repr=False)
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def _address(text: str, name: str) -> str:
    address = parseaddr(text)[1]
    if "@" not in address or any(c.isspace() for c in address):
        raise BadSetting(f"{name} holds something that is not an email address")
    return address


def credentials(environ: Mapping[str, str]) -> EmailSettings:
    """The settings; MissingCredentials names the unset ones, BadSetting an unusable one
    (without ever quoting it: the address holds the password)."""
    values = read_credentials(environ, ENVIRONMENT)
    url = urlsplit(values["BALISE_SMTP_URL"])
    scheme = url.scheme.lower()
    if scheme not in PORTS:
        raise BadSetting(
            "BALISE_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), "
            "as in smtp://user:password@mail.example.org:587"
        )
    try:
        port = url.port or PORTS[scheme]
    except ValueError:
        raise BadSetting("BALISE_SMTP_URL has a port that is not a number") from None
    if not url.hostname:
        raise BadSetting("BALISE_SMTP_URL names no server: smtp://user:password@host:port")
    _address(values["BALISE_EMAIL_FROM"], "BALISE_EMAIL_FROM")  # a name may come with it
    recipients = tuple(
        _address(address, "BALISE_EMAIL_TO")
        for _, address in getaddresses([values["BALISE_EMAIL_TO"]])
        if address
    )
    if not recipients:
        raise BadSetting("BALISE_EMAIL_TO holds no address (comma-separated addresses)")
    return EmailSettings(
        tls=scheme == "smtps",
        host=url.hostname,
        port=port,
        sender=values["BALISE_EMAIL_FROM"].strip(),
        recipients=tuple(dict.fromkeys(recipients)),
        user=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password is not None else None,
    )


# --- composing ------------------------------------------------------------------------


def site_host(repository: Repository) -> str:
    return urlsplit(repository.site.url).hostname or "balise.invalid"


def message_id(statement_id: str, host: str, kind: str = "") -> str:
    """Stable: the same statement gives the same Message-ID on every run, so that a message
    sent again after a crash (the server had accepted it) is recognisable as the same one."""
    return f"<{statement_id}{'.' + kind if kind else ''}@{host}>"


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return unicodedata.normalize("NFC", "\n".join(kept).strip() + "\n")


def compose(
    statement: Statement, repository: Repository, snap: Snapshot, templates: Templates
) -> Post:
    """The message of one statement: Subject = title, a plain-text and an HTML part (the
    sanitized body, the statuses it sets, the permalink, the press contact), its headers."""
    link = permalink(statement, repository)
    organisation = repository.organisation
    published = publication(statement)
    values = {
        "title": statement.title,
        "statuses": status_line(statement, repository),
        "link": link,
        "press": organisation.press,
        "organisation": organisation.name,
        "type_label": french.TYPE_LABELS[statement.type],
        "is_press_release": statement.is_press_release,
        "date": french.long_datetime(published, organisation.tz),
    }
    text = _tidy(
        templates.text.get_template(TEXT_TEMPLATE).render(**values, body=body_text(statement.body))
    )
    html = templates.html.get_template(HTML_TEMPLATE).render(
        **values, body=Markup(feed_body_html(statement.body, link))
    )
    host = site_host(repository)
    headers = [
        ("Message-ID", message_id(statement.id, host)),
        # RFC 5322's form (English day and month names), at the organisation's offset.
        ("Date", format_datetime(published.astimezone(organisation.tz))),
        ("Content-Language", "fr"),
    ]
    press = organisation.press
    if press is not None and press.email:
        headers.append(("List-Unsubscribe", _unsubscribe(press.email)))
    return Post(
        statement.id,
        "email",
        text,
        grapheme.length(text),
        None,
        link,
        subject=statement.title,
        html=html,
        headers=tuple(headers),
    )


def correction(
    statement: Statement | None,
    statement_id: str,
    repository: Repository,
    snap: Snapshot,
    templates: Templates,
    reason: str | None,
) -> Post:
    """The short correction `post --retract` sends once, in reply to the statement's message."""
    text = correction_text(statement, statement_id, repository, reason)
    organisation = repository.organisation
    host = site_host(repository)
    original = message_id(statement_id, host)
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines())
    html = f'<!DOCTYPE html>\n<html lang="fr">\n<body>\n{paragraphs}\n</body>\n</html>\n'
    headers = [
        ("Message-ID", message_id(statement_id, host, "correctif")),
        ("In-Reply-To", original),
        ("References", original),
        ("Date", format_datetime(snap.now.astimezone(organisation.tz))),
        ("Content-Language", "fr"),
    ]
    press = organisation.press
    if press is not None and press.email:
        headers.append(("List-Unsubscribe", _unsubscribe(press.email)))
    title = statement.title if statement is not None else statement_id
    return Post(
        statement_id,
        "email",
        text + f"\n\n--\n{organisation.name}\n",
        grapheme.length(text),
        None,
        permalink(statement, repository) if statement is not None else repository.site.url,
        subject=f"Correctif : {title}",
        html=html,
        headers=tuple(headers),
    )


def _unsubscribe(address: str) -> str:
    return f"<mailto:{address}?subject={quote(UNSUBSCRIBE_SUBJECT)}>"


def message(post: Post, settings: EmailSettings) -> EmailMessage:
    """The message as it goes out. `Bcc` holds the recipients (smtplib leaves it out of what
    it transmits); `To` is the sender itself, so that no recipient sees another."""
    mail = EmailMessage(policy=SMTP)
    mail.set_content(post.text, cte="quoted-printable")
    if post.html is not None:
        mail.add_alternative(post.html, subtype="html", cte="quoted-printable")
        # Not random: the same post is the same bytes, on every run and every retry.
        digest = hashlib.sha256(f"{post.text}\0{post.html}".encode()).hexdigest()[:32]
        mail.set_boundary(f"=_balise_{digest}")
    # After the content: setting it drops every Content-* header (Content-Language too).
    mail["Subject"] = post.subject or post.text.splitlines()[0]
    mail["From"] = settings.sender
    mail["To"] = settings.sender
    mail["Bcc"] = ", ".join(settings.recipients)
    for name, value in post.headers:
        mail[name] = value
    if "List-Unsubscribe" not in mail:  # no press contact: the sender takes the requests
        mail["List-Unsubscribe"] = _unsubscribe(parseaddr(settings.sender)[1])
    return mail


def size(post: Post, settings: EmailSettings) -> int:
    """The bytes transmitted (without `Bcc`)."""
    mail = message(post, settings)
    del mail["Bcc"]
    return len(mail.as_bytes())


# --- sending --------------------------------------------------------------------------


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"the SMTP server answered {error.smtp_code}: {' '.join(str(text).split())}"


class EmailClient:
    network = "email"

    def __init__(
        self,
        settings: EmailSettings,
        *,
        timeout: float = 30.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings
        self._timeout = timeout
        self._backoff = backoff
        self._sleep = sleep
        # The system's certificate authorities (SSL_CERT_FILE also works), host name checked.
        self._context = context or ssl.create_default_context()

    def secrets(self) -> tuple[str, ...]:
        s = self._settings
        # The password, and the addresses: a server's refusal may quote them, and no setting
        # reaches what `post` prints or records. (The user name is too common a word to hide
        # everywhere; in the URL, user:password@ is hidden anyway.)
        values = [s.password or "", parseaddr(s.sender)[1], *s.recipients]
        return tuple(value for value in values if value)

    def key(self, post: Post, attempted_at: datetime) -> str:
        return dict(post.headers).get("Message-ID", post.statement_id)

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.tls:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=self._timeout, context=self._context)
        smtp = smtplib.SMTP(s.host, s.port, timeout=self._timeout)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._context)
                smtp.ehlo()
            elif s.user is not None:
                raise PostFailed(
                    "the SMTP server does not offer STARTTLS: Balise does not send the "
                    "password in clear (use smtps:// or a server that offers STARTTLS)",
                    transient=False,
                )
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, post: Post, key: str, *, resumed: bool = False) -> Sent:
        s = self._settings
        mail = message(post, s)
        if key:
            del mail["Message-ID"]
            mail["Message-ID"] = key  # the one recorded before the first attempt

        def attempt(number: int) -> Sent:
            try:
                with self._connect() as smtp:
                    if s.user is not None:
                        smtp.login(s.user, s.password or "")
                    refused = smtp.send_message(
                        mail, from_addr=parseaddr(s.sender)[1], to_addrs=list(s.recipients)
                    )
            except smtplib.SMTPAuthenticationError as error:
                raise PostFailed(
                    f"{_reply(error)} (check the user and password of BALISE_SMTP_URL)",
                    transient=False,
                ) from None
            except smtplib.SMTPRecipientsRefused:
                raise PostFailed(
                    "the SMTP server refused every recipient (check BALISE_EMAIL_TO)",
                    transient=False,
                ) from None
            except smtplib.SMTPResponseException as error:  # 4xx: try again; 5xx: for good
                raise PostFailed(_reply(error), transient=error.smtp_code < 500) from None
            except smtplib.SMTPNotSupportedError as error:
                raise PostFailed(f"the SMTP server cannot: {error}", transient=False) from None
            except ssl.SSLError as error:  # a certificate that does not verify, a TLS mismatch
                raise PostFailed(
                    f"no secure connection to the SMTP server: {error.reason or error}",
                    transient=False,
                ) from None
            except (smtplib.SMTPException, OSError) as error:  # refused, reset, timed out
                raise PostFailed(
                    f"no answer from the SMTP server ({type(error).__name__})", transient=True
                ) from None
            accepted = len(s.recipients) - len(refused)
            note = f"accepted by the SMTP server for {accepted} recipient" + (
                "s" if accepted != 1 else ""
            )
            if refused:
                note += f", refused for {len(refused)}"
            return Sent(key or None, None, note)

        return with_retries(attempt, self._backoff, self._sleep, self.secrets())


# --- the channel (balise.announce.channels.Channel) ----------------------------------------


def destinations(settings: EmailSettings | None) -> dict[str, str]:
    return {"email": CHANNELS["email"]}


def clients(
    settings: EmailSettings, *, timeout: float, sleep: Callable[[float], None]
) -> dict[str, EmailClient]:
    return {"email": EmailClient(settings, timeout=timeout, sleep=sleep)}


def facts(post: Post, settings: EmailSettings | None) -> list[str]:
    if settings is None:
        return []
    count = len(settings.recipients)
    return [f"{count} recipient{'s' if count != 1 else ''} (Bcc)", f"{size(post, settings)} bytes"]

using System.Text;
using MailCluster.Api.Requests;
using MailCluster.Api.Templates;
using MailCluster.Edge.Session;
using MimeKit;
using MimeKit.Utils;

namespace MailCluster.Api.Messages;

/// <summary>
/// Turns a validated request into the RFC 5322 text of each recipient's message (without the trace header, which
/// <see cref="InjectedMessage"/> adds with DKIM). Templates are parsed once here and rendered per recipient.
/// <list type="bullet">
/// <item>Raw content: rendered as a whole, line ends made CRLF (bare CR or LF never leave the node, invariant 4),
/// lines longer than 998 octets (RFC 5322 §2.1.1) and NUL refused; Message-ID and Date added when missing, as the
/// submission port does (RFC 6409 §8).</item>
/// <item>Built content (MimeKit): From (<c>from</c>, else the envelope sender), Reply-To, To (the recipient with
/// its name, unless <c>headers</c> gives To), Subject, the headers, text and/or HTML alternative, attachments
/// (inline when they have a <c>content_id</c>), prepared for 7-bit transport so that it relays to any MX.</item>
/// </list>
/// </summary>
public sealed class MessageComposer
{
    private static readonly FormatOptions Format = CreateFormat();

    private readonly InjectRequest _request;
    private readonly MessageTemplate? _raw;
    private readonly MessageTemplate? _subject;
    private readonly MessageTemplate? _text;
    private readonly MessageTemplate? _html;
    private readonly List<(string Name, MessageTemplate Value)> _headers = [];

    public MessageComposer(InjectRequest request)
    {
        _request = request ?? throw new ArgumentNullException(nameof(request));
        var templated = request.Templated;
        switch (request.Content)
        {
            case RawContent raw:
                _raw = MessageTemplate.Parse("content", raw.Text, templated: templated);
                break;
            case BuiltContent built:
                _subject = built.Subject is { } s ? MessageTemplate.Parse("content.subject", s, templated: templated) : null;
                _text = built.TextBody is { } t ? MessageTemplate.Parse("content.text_body", t, templated: templated) : null;
                _html = built.HtmlBody is { } h ? MessageTemplate.Parse("content.html_body", h, html: true, templated: templated) : null;
                foreach (var (name, value) in built.Headers)
                {
                    _headers.Add((name, MessageTemplate.Parse($"content.headers.{name}", value, templated: templated)));
                }

                break;
            default:
                throw new ArgumentException("unknown content", nameof(request));
        }
    }

    /// <summary>The message text for recipient <paramref name="index"/>, with CRLF line ends.</summary>
    /// <param name="messageIdDomain">Right side of a generated Message-ID (the node's host name).</param>
    public byte[] Compose(int index, string queueId, string messageIdDomain, DateTimeOffset now)
    {
        var recipient = _request.Recipients[index];
        var variables = new TemplateVariables(_request.Substitutions, recipient);
        var field = $"recipients[{index}]";
        return _raw is not null
            ? Raw(_raw.Render(variables, field), queueId, messageIdDomain, now)
            : Built((BuiltContent)_request.Content, recipient, variables, field, queueId, messageIdDomain, now);
    }

    private static byte[] Raw(string text, string queueId, string messageIdDomain, DateTimeOffset now)
    {
        var body = new StringBuilder(text.Length + 200);
        var line = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                throw new RequestProblemException(RequestProblem.Invalid("content", "contains a NUL character"));
            }

            if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                body.Append("\r\n");
                line = 0;
                continue;
            }

            // Counted in UTF-16 units: an upper bound check on octets would need encoding; 998 units of non-ASCII text
            // may exceed 998 octets, which MailCluster's own relaying tolerates (it never re-folds), so this guards
            // against the gross case a receiver would refuse.
            if (++line > 998)
            {
                throw new RequestProblemException(RequestProblem.Invalid("content", "has a line longer than 998 characters (RFC 5322 §2.1.1)"));
            }

            body.Append(c);
        }

        if (body.Length < 2 || body[^2] != '\r' || body[^1] != '\n')
        {
            body.Append("\r\n");
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        var missing = new StringBuilder();
        if (!HeaderScan.HasField(bytes, "Message-ID"))
        {
            missing.Append("Message-ID: <").Append(queueId).Append('@').Append(messageIdDomain).Append(">\r\n");
        }

        if (!HeaderScan.HasField(bytes, "Date"))
        {
            missing.Append("Date: ").Append(DateUtils.FormatDate(now)).Append("\r\n");
        }

        return missing.Length == 0 ? bytes : [.. Encoding.ASCII.GetBytes(missing.ToString()), .. bytes];
    }

    private byte[] Built(BuiltContent content, InjectRecipient recipient, TemplateVariables variables, string field, string queueId, string messageIdDomain, DateTimeOffset now)
    {
        var message = new MimeMessage { Date = now, MessageId = $"{queueId}@{messageIdDomain}" };
        var from = content.From ?? new InjectAddress(_request.EnvelopeSender, null);
        if (from.Email.Length == 0)
        {
            throw new RequestProblemException(RequestProblem.Invalid("content.from", "is required when envelope_sender is empty (the null sender)"));
        }

        message.From.Add(new MailboxAddress(from.Name, from.Email));
        if (content.ReplyTo is { } replyTo)
        {
            message.ReplyTo.Add(new MailboxAddress(replyTo.Name, replyTo.Email));
        }

        message.To.Add(new MailboxAddress(recipient.Name, recipient.Email));
        if (_subject is not null)
        {
            message.Subject = HeaderValue(_subject.Render(variables, field), _subject.Field);
        }

        foreach (var (name, template) in _headers)
        {
            var value = HeaderValue(template.Render(variables, field), template.Field);
            if (IsReplaced(name))
            {
                message.Headers.Replace(name, value);
            }
            else
            {
                message.Headers.Add(name, value);
            }
        }

        var builder = new BodyBuilder
        {
            TextBody = _text?.Render(variables, field),
            HtmlBody = _html?.Render(variables, field),
        };
        foreach (var attachment in content.Attachments)
        {
            var type = ContentType.Parse(attachment.ContentType);
            var part = attachment.ContentId is { } id
                ? builder.LinkedResources.Add(attachment.FileName ?? id, attachment.Data, type)
                : builder.Attachments.Add(attachment.FileName ?? "attachment", attachment.Data, type);
            if (attachment.ContentId is { } contentId)
            {
                part.ContentId = contentId;
            }
        }

        message.Body = builder.ToMessageBody();
        message.Prepare(EncodingConstraint.SevenBit, 78);
        using var output = new MemoryStream();
        message.WriteTo(Format, output);
        return output.ToArray();
    }

    /// <summary>Fields a message has once (RFC 5322 §3.6): a request header replaces the built one.</summary>
    private static bool IsReplaced(string name) =>
        name.Equals("To", StringComparison.OrdinalIgnoreCase) || name.Equals("From", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Reply-To", StringComparison.OrdinalIgnoreCase) || name.Equals("Subject", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase) || name.Equals("Date", StringComparison.OrdinalIgnoreCase);

    /// <summary>A rendered header value must stay one field: CR or LF would start a field of the client's choosing.</summary>
    private static string HeaderValue(string value, string field) =>
        value.AsSpan().IndexOfAny('\r', '\n') < 0 && !value.Contains('\0', StringComparison.Ordinal)
            ? value
            : throw new RequestProblemException(RequestProblem.Invalid(field, "a header value must not contain CR, LF or NUL"));

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}

using System.Text;
using System.Text.Json;
using MailCluster.Queue;
using MimeKit;

namespace MailCluster.Api.Requests;

/// <summary>
/// Reads and validates a request body into an <see cref="InjectRequest"/>, stopping at the first problem with the
/// field it concerns. Pure: no I/O, no clock. Unknown fields are ignored (KumoMTA has more, such as
/// <c>template_dialect</c> and <c>deferred_generation</c>; a client written for it still works for the fields we
/// share), except <c>template_dialect</c>, which is refused unless it names what we render, so that a request is never
/// rendered with another engine's semantics than the client asked for.
/// </summary>
public static class InjectRequestReader
{
    /// <param name="maxRecipients">Recipients allowed in one request (<see cref="ApiOptions.MaxRecipients"/>).</param>
    /// <param name="maxAttachmentBytes">Largest decoded attachment (<see cref="ApiOptions.MaxAttachmentBytes"/>).</param>
    public static InjectRequest Read(ReadOnlyMemory<byte> body, int maxRecipients, long maxAttachmentBytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            throw new RequestProblemException(new RequestProblem(400, $"the body is not valid JSON: {ex.Message}", "body"));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Problem("body", $"must be a JSON object, got {Kind(root)}");
            }

            if (root.TryGetProperty("template_dialect", out var dialect) && !(dialect.ValueKind == JsonValueKind.String && dialect.GetString() is "Liquid" or "Static"))
            {
                throw Problem("template_dialect", "only \"Liquid\" (the default) and \"Static\" (no substitution) are supported");
            }

            var sender = Address(Required(root, "envelope_sender", JsonValueKind.String, "envelope_sender"), "envelope_sender", allowNull: true);
            var content = Content(Required(root, "content", null, "content"), maxAttachmentBytes);
            var recipients = Recipients(Required(root, "recipients", JsonValueKind.Array, "recipients"), maxRecipients);
            var substitutions = Optional(root, "substitutions", JsonValueKind.Object, "substitutions") is { } s ? Substitutions(s) : Empty;
            JsonElement? meta = Optional(root, "meta", JsonValueKind.Object, "meta") is { } m ? m.Clone() : null;
            var templated = !(dialect.ValueKind == JsonValueKind.String && dialect.GetString() == "Static");
            return new InjectRequest(sender, content, recipients, substitutions, meta, templated);
        }
    }

    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>(StringComparer.Ordinal);

    private static InjectContent Content(JsonElement content, long maxAttachmentBytes)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            var message = content.GetString()!;
            return message.Length == 0 ? throw Problem("content", "must not be empty") : new RawContent(message);
        }

        if (content.ValueKind != JsonValueKind.Object)
        {
            throw Problem("content", $"must be a string (an RFC 5322 message) or an object (subject, text_body, html_body, ...), got {Kind(content)}");
        }

        var subject = OptionalString(content, "subject", "content.subject");
        var text = OptionalString(content, "text_body", "content.text_body");
        var html = OptionalString(content, "html_body", "content.html_body");
        if (text is null && html is null)
        {
            throw Problem("content.text_body", "content needs text_body, html_body or both");
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (Optional(content, "headers", JsonValueKind.Object, "content.headers") is { } h)
        {
            foreach (var header in h.EnumerateObject())
            {
                var field = $"content.headers.{header.Name}";
                if (header.Name.Length == 0 || header.Name.Any(c => c is <= ' ' or > '~' or ':'))
                {
                    throw Problem(field, "is not a header field name (RFC 5322 §3.6.8: printable ASCII, no colon)");
                }

                headers.Add(new(header.Name, Expect(header.Value, JsonValueKind.String, field).GetString()!));
            }
        }

        var from = Optional(content, "from", JsonValueKind.Object, "content.from") is { } f ? MailAddress(f, "content.from") : null;
        var replyTo = Optional(content, "reply_to", JsonValueKind.Object, "content.reply_to") is { } r ? MailAddress(r, "content.reply_to") : null;
        var attachments = new List<InjectAttachment>();
        if (Optional(content, "attachments", JsonValueKind.Array, "content.attachments") is { } a)
        {
            var i = 0;
            foreach (var item in a.EnumerateArray())
            {
                attachments.Add(Attachment(Expect(item, JsonValueKind.Object, $"content.attachments[{i}]"), $"content.attachments[{i}]", maxAttachmentBytes));
                i++;
            }
        }

        return new BuiltContent(subject, text, html, headers, from, replyTo, attachments);
    }

    private static InjectAttachment Attachment(JsonElement item, string field, long maxBytes)
    {
        var data = Required(item, "data", JsonValueKind.String, field + ".data").GetString()!;
        var isBase64 = Optional(item, "base64", JsonValueKind.True, field + ".base64") is not null;
        byte[] bytes;
        if (isBase64)
        {
            // Decoded size is at most 3/4 of the text: refuse before decoding a body that is surely too large.
            if (data.Length / 4 * 3 > maxBytes + 3)
            {
                throw TooLarge(field + ".data", maxBytes);
            }

            try
            {
                bytes = Convert.FromBase64String(data);
            }
            catch (FormatException)
            {
                throw Problem(field + ".data", "is not valid base64 (base64 is true)");
            }
        }
        else
        {
            bytes = Encoding.UTF8.GetBytes(data);
        }

        if (bytes.Length > maxBytes)
        {
            throw TooLarge(field + ".data", maxBytes);
        }

        var type = OptionalString(item, "content_type", field + ".content_type") ?? "application/octet-stream";
        if (!ContentType.TryParse(type, out _))
        {
            throw Problem(field + ".content_type", $"'{type}' is not a MIME type");
        }

        return new InjectAttachment(bytes, type, OptionalString(item, "file_name", field + ".file_name"), OptionalString(item, "content_id", field + ".content_id"));
    }

    private static RequestProblemException TooLarge(string field, long maxBytes) =>
        new(new RequestProblem(413, $"the attachment is larger than the limit of {maxBytes} bytes", field));

    private static List<InjectRecipient> Recipients(JsonElement array, int max)
    {
        var count = array.GetArrayLength();
        if (count == 0)
        {
            throw Problem("recipients", "must list at least one recipient");
        }

        if (count > max)
        {
            throw Problem("recipients", $"lists {count} recipients; the limit per request is {max}");
        }

        var recipients = new List<InjectRecipient>(count);
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var field = $"recipients[{i}]";
            Expect(item, JsonValueKind.Object, field);
            var email = Address(Required(item, "email", JsonValueKind.String, field + ".email"), field + ".email", allowNull: false);
            var name = OptionalString(item, "name", field + ".name");
            var substitutions = Optional(item, "substitutions", JsonValueKind.Object, field + ".substitutions") is { } s ? Substitutions(s) : Empty;
            recipients.Add(new InjectRecipient(email, name, substitutions));
            i++;
        }

        return recipients;
    }

    private static InjectAddress MailAddress(JsonElement value, string field) =>
        new(Address(Required(value, "email", JsonValueKind.String, field + ".email"), field + ".email", allowNull: false), OptionalString(value, "name", field + ".name"));

    /// <summary>
    /// An addr-spec usable as an SMTP path: <c>local@domain</c> with a domain the queue can route (the one shard key),
    /// no display name, no brackets, no spaces or control characters. <paramref name="allowNull"/>: the empty string is
    /// the null reverse-path (no bounces), as in SMTP's <c>MAIL FROM:&lt;&gt;</c>.
    /// </summary>
    internal static string Address(JsonElement value, string field, bool allowNull)
    {
        var text = value.GetString()!;
        if (text.Length == 0 && allowNull)
        {
            return text;
        }

        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1 || text.Length > 254 || text.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or ',' or ';')
            || !MailboxAddress.TryParse(ParserOptions.Default, text, out var mailbox) || !string.Equals(mailbox.Address, text, StringComparison.Ordinal)
            || DomainKey.TryNormalize(text[(at + 1)..]) is null)
        {
            throw Problem(field, $"'{text}' is not an email address (local@domain)");
        }

        return text;
    }

    /// <summary>JSON values as template values: strings, numbers (decimal), booleans, null, lists and maps.</summary>
    private static Dictionary<string, object?> Substitutions(JsonElement map)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in map.EnumerateObject())
        {
            values[property.Name] = Value(property.Value);
        }

        return values;
    }

    private static object? Value(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetDecimal(out var d) ? d : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => value.EnumerateArray().Select(Value).ToList(),
        JsonValueKind.Object => Substitutions(value),
        _ => null,
    };

    private static JsonElement Required(JsonElement parent, string name, JsonValueKind? kind, string field) =>
        Optional(parent, name, kind, field) ?? throw Problem(field, "is required");

    /// <summary>The property, or null when absent or JSON null; a value of another kind is a problem.
    /// <see cref="JsonValueKind.True"/> stands for "a boolean" (false reads as absent).</summary>
    private static JsonElement? Optional(JsonElement parent, string name, JsonValueKind? kind, string field)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (kind == JsonValueKind.True)
        {
            return value.ValueKind switch
            {
                JsonValueKind.True => value,
                JsonValueKind.False => null,
                _ => throw Problem(field, $"must be a boolean, got {Kind(value)}"),
            };
        }

        return kind is { } k ? Expect(value, k, field) : value;
    }

    private static string? OptionalString(JsonElement parent, string name, string field) =>
        Optional(parent, name, JsonValueKind.String, field)?.GetString();

    private static JsonElement Expect(JsonElement value, JsonValueKind kind, string field) =>
        value.ValueKind == kind ? value : throw Problem(field, $"must be {Article(kind)}, got {Kind(value)}");

    private static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "a " + kind.ToString().ToLowerInvariant(),
    };

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static RequestProblemException Problem(string field, string detail) => new(RequestProblem.Invalid(field, detail));
}

using System.Text.Json;

namespace MailCluster.Api.Requests;

/// <summary>
/// A <c>POST /api/inject/v1</c> request, KumoMTA's shape and field names (docs.kumomta.com, "api inject v1"):
/// <c>envelope_sender</c>, <c>content</c>, <c>recipients</c>, <c>substitutions</c>, plus KumoMTA's <c>meta</c>
/// (opaque JSON carried with each message for its delivery events). Parsed and validated by
/// <see cref="InjectRequestReader"/>; every value here is well formed. <paramref name="Templated"/> is false for
/// <c>template_dialect: "Static"</c>: the content is sent as given.
/// </summary>
public sealed record InjectRequest(
    string EnvelopeSender,
    InjectContent Content,
    IReadOnlyList<InjectRecipient> Recipients,
    IReadOnlyDictionary<string, object?> Substitutions,
    JsonElement? Meta,
    bool Templated = true);

/// <summary>One recipient: one generated message. <c>name</c> and <c>email</c> are template variables too.</summary>
public sealed record InjectRecipient(string Email, string? Name, IReadOnlyDictionary<string, object?> Substitutions);

/// <summary>An RFC 5322 address with an optional display name (<c>from</c>, <c>reply_to</c>).</summary>
public sealed record InjectAddress(string Email, string? Name);

/// <summary><c>content</c>: a raw RFC 5322 message (a template as a whole) or the parts to build one.</summary>
public abstract record InjectContent;

/// <summary>A complete message as text; template substitution runs over all of it, unparsed (as in KumoMTA).</summary>
public sealed record RawContent(string Text) : InjectContent;

/// <summary>
/// The parts of a message that <see cref="Messages.MessageComposer"/> builds with MimeKit. Subject, bodies and header
/// values are templates; attachments are not (as in KumoMTA).
/// </summary>
public sealed record BuiltContent(
    string? Subject,
    string? TextBody,
    string? HtmlBody,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    InjectAddress? From,
    InjectAddress? ReplyTo,
    IReadOnlyList<InjectAttachment> Attachments) : InjectContent;

/// <summary>An attachment, decoded (<c>data</c> was base64 when <c>base64</c> was true, else text stored as UTF-8).</summary>
public sealed record InjectAttachment(byte[] Data, string ContentType, string? FileName, string? ContentId);

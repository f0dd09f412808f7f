using System.Text;
using MailCluster.Queue;
using MimeKit;
using MimeKit.Cryptography;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// Signs accepted submissions with the keys of the sender domain (RFC 6376), once, at acceptance: the signature fields
/// go in front of the message and the result is what is spooled, so every retry sends the same signed bytes. Nothing
/// else in the message changes (bytes in, bytes out).
/// <para>The sender domain is the domain of the From header (RFC 5322 author), not the envelope sender: DMARC
/// (RFC 7489 §3.1) judges alignment against RFC5322.From, the address a reader sees, whereas the envelope sender is
/// often a bounce or VERP address of another domain. A message whose From field is missing, repeated, unparsable or
/// names mailboxes in several domains is not signed; nor is one whose From mailboxes the submitting user may not send
/// as (the caller's <c>mayAuthor</c>, the same rule as for MAIL FROM): a signature vouches for the From address, and
/// one user must not obtain it for another tenant's domain hosted on the same cluster.</para>
/// <para>Cost: only the header section is parsed (MimeKit's <see cref="HeaderList"/>); the body is hashed as raw
/// octets (<see cref="HeaderOnlyBody"/>), never parsed as MIME. One body pass per key.</para>
/// </summary>
public sealed class DkimSigning
{
    /// <summary>Fields signed when present (RFC 6376 §5.4.1). Content-* are signed too: they decide how the body reads.</summary>
    private static readonly string[] SignedFields =
    [
        "From", "Sender", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
    ];

    /// <summary>Oversigned (RFC 6376 §8.15): listed once more than they occur, so that a relay adding another From, To
    /// or Subject field (which a reader might be shown instead) breaks the signature.</summary>
    private static readonly string[] OversignedFields = ["From", "To", "Subject"];

    private static readonly FormatOptions Format = CreateFormat();

    private readonly Dictionary<string, DkimKeySource[]> _keys;
    private readonly DkimMetrics _metrics;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;

    public DkimSigning(IEnumerable<DkimKeySource> keys, DkimMetrics? metrics = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _metrics = metrics ?? DkimMetrics.Detached;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _keys = keys
            .GroupBy(k => DomainKey.Normalize(k.Domain), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The signature fields for the message <paramref name="added"/> + <paramref name="text"/> (the fields the
    /// edge adds on submission, then the text as received), in configuration order; empty when the From domain has no
    /// key. The Received field is prepended outside of them and never signed (RFC 6376 §5.4.1).</summary>
    /// <param name="mayAuthor">Whether the submitter may use a From address (<c>local@domain</c>).</param>
    public byte[] Sign(ReadOnlySpan<byte> added, ReadOnlyMemory<byte> text, Func<string, bool> mayAuthor)
    {
        ArgumentNullException.ThrowIfNull(mayAuthor);
        if (_keys.Count == 0)
        {
            return [];
        }

        var (headerLength, body) = Split(text);
        var headers = ParseHeaders(added, text.Span[..headerLength]);
        if (AuthorDomain(headers, mayAuthor) is not { } domain || !_keys.TryGetValue(domain, out var keys))
        {
            return [];
        }

        var content = headers.Where(h => h.Field.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)).ToList();
        var message = new MimeMessage(headers) { Body = new HeaderOnlyBody(content, body) };
        var fields = FieldsToSign(headers);
        using var output = new MemoryStream(600 * keys.Length);
        foreach (var key in keys)
        {
            // A key that cannot sign (a provider error) costs that one signature, never the message: the failure is
            // counted and logged for an alert, and the other keys of a dual-signed domain still sign.
            try
            {
                key.Signer.Sign(Format, message, fields);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _metrics.CountFailure(key.Domain, key.Algorithm);
                DkimLog.SigningFailed(_logger, ex, key.Selector, key.Domain);
                continue;
            }

            WriteField(output, message.Headers[0]);
            _metrics.CountSignature(key.Domain, key.Algorithm);
        }

        return output.ToArray();
    }

    /// <summary>The length of the header section (its fields with their CRLFs) and the body after the empty line.</summary>
    internal static (int HeaderLength, ReadOnlyMemory<byte> Body) Split(ReadOnlyMemory<byte> text)
    {
        var span = text.Span;
        if (span.StartsWith("\r\n"u8))
        {
            return (0, text[2..]);
        }

        var end = span.IndexOf("\r\n\r\n"u8);
        return end < 0 ? (text.Length, ReadOnlyMemory<byte>.Empty) : (end + 2, text[(end + 4)..]);
    }

    private static HeaderList ParseHeaders(ReadOnlySpan<byte> added, ReadOnlySpan<byte> section)
    {
        var bytes = new byte[added.Length + section.Length];
        added.CopyTo(bytes);
        section.CopyTo(bytes.AsSpan(added.Length));
        using var stream = new MemoryStream(bytes, writable: false);
        return HeaderList.Load(ParserOptions.Default, stream);
    }

    /// <summary>The normalised domain of the one From field's mailboxes, or null (see the class remarks).</summary>
    internal static string? AuthorDomain(HeaderList headers, Func<string, bool> mayAuthor)
    {
        var from = headers.Where(h => h.Id == HeaderId.From).ToList();
        if (from.Count != 1 || !InternetAddressList.TryParse(ParserOptions.Default, from[0].RawValue, out var addresses))
        {
            return null;
        }

        var mailboxes = addresses.Mailboxes.ToList();
        var domains = mailboxes.Select(m => DomainKey.TryNormalize(m.Domain ?? "")).Distinct().ToList();
        return domains.Count == 1 && mailboxes.All(m => mayAuthor(m.Address)) ? domains[0] : null;
    }

    /// <summary>The h= list: each present field as often as it occurs, oversigned ones once more.</summary>
    internal static List<string> FieldsToSign(HeaderList headers)
    {
        var fields = new List<string>();
        foreach (var name in SignedFields)
        {
            var count = headers.Count(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase));
            count += OversignedFields.Contains(name) ? 1 : 0;
            fields.AddRange(Enumerable.Repeat(name, count));
        }

        return fields;
    }

    /// <summary>"DKIM-Signature:" and the folded value MimeKit made, with CRLF line ends (it folds with the platform's).</summary>
    private static void WriteField(MemoryStream output, Header field)
    {
        output.Write(Encoding.ASCII.GetBytes(field.Field + ":"));
        var previous = (byte)0;
        foreach (var b in field.RawValue)
        {
            if (b == (byte)'\n' && previous != (byte)'\r')
            {
                output.WriteByte((byte)'\r');
            }

            output.WriteByte(b);
            previous = b;
        }
    }

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}

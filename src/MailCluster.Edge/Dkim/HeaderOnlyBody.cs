using System.Runtime.InteropServices;
using MimeKit;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// The body of a message as raw octets, for <see cref="MimeKit.Cryptography.DkimSigner"/>: its body hash writes
/// <see cref="MimeMessage.Body"/> with <c>contentOnly</c>, and this entity writes the octets after the header
/// section exactly as they arrived. So the hash covers the bytes that are spooled and relayed (not a re-serialised
/// MIME tree), and the MIME structure is never parsed. Its headers are the message's <c>Content-*</c> fields, where
/// MimeKit's signer looks them up.
/// </summary>
internal sealed class HeaderOnlyBody : MimeEntity
{
    private readonly ReadOnlyMemory<byte> _octets;

    public HeaderOnlyBody(IEnumerable<Header> contentFields, ReadOnlyMemory<byte> octets)
        : base(new ContentType("application", "octet-stream"))
    {
        _octets = octets;

        // Replace the Content-Type the base constructor serialised with the message's own fields, raw values intact.
        Headers.Clear();
        foreach (var field in contentFields)
        {
            Headers.Add(field);
        }
    }

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
        // Nothing to encode: the octets are written as they are.
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!contentOnly)
        {
            throw new NotSupportedException("Only the body octets can be written; the header section is the message's.");
        }

        if (MemoryMarshal.TryGetArray(_octets, out var segment))
        {
            stream.Write(segment.Array!, segment.Offset, segment.Count);
        }
        else
        {
            stream.Write(_octets.Span);
        }
    }

    public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        WriteTo(options, stream, contentOnly, cancellationToken);
        return Task.CompletedTask;
    }
}

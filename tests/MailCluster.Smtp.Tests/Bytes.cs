using System.Buffers;
using System.Text;

namespace MailCluster.Smtp.Tests;

/// <summary>Builds pipe-like buffers: one segment, or split at chosen offsets (as Kestrel may deliver them).</summary>
internal static class Bytes
{
    public static byte[] Of(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(ReadOnlySequence<byte> s) => Encoding.UTF8.GetString(s.ToArray());

    public static string Text(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);

    public static ReadOnlySequence<byte> Seq(string s) => new(Of(s));

    /// <summary>A sequence with a segment boundary at each of <paramref name="cuts"/> (ascending offsets).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var bounds = cuts.Where(c => c > 0 && c < data.Length).Distinct().Order().Append(data.Length).ToArray();
        Segment? first = null, last = null;
        var start = 0;
        foreach (var end in bounds)
        {
            var piece = new Segment(data.AsMemory(start, end - start));
            if (last is null)
            {
                first = last = piece;
            }
            else
            {
                last = last.Append(piece);
            }

            start = end;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary>One segment per byte: the worst case for any incremental reader.</summary>
    public static ReadOnlySequence<byte> Bytewise(byte[] data) => Split(data, [.. Enumerable.Range(1, Math.Max(0, data.Length - 1))]);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
            return next;
        }
    }
}

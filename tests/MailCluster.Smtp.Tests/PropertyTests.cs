using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace MailCluster.Smtp.Tests;

/// <summary>FsCheck properties (STYLE build habit: a fuzz/property test for every parser).</summary>
public class PropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(2000);

    /// <summary>Octets biased towards what the grammar cares about, so random input reaches deep states.</summary>
    private static readonly Gen<byte> SmtpishByte = Gen.Frequency(
        (6, Gen.Choose(32, 126).Select(i => (byte)i)),
        (3, Gen.Elements("<>@:.\"\\=[] ,;+"u8.ToArray())),
        (1, Gen.Elements<byte>(0, 9, 13, 10, 127, 0x80, 0xC3, 0xA9, 0xFF)));

    private static readonly Gen<byte[]> CommandLines = Gen.OneOf(
        ArbMap.Default.ArbFor<byte[]>().Generator,
        Gen.Elements("MAIL FROM:", "RCPT TO:", "EHLO ", "HELO ", "BDAT ", "AUTH ", "VRFY ", "DATA", "mail from: <")
            .SelectMany(prefix => SmtpishByte.ArrayOf().Select(tail => (byte[])[.. Bytes.Of(prefix), .. tail])));

    [Fact]
    public void Parser_never_throws_and_sets_exactly_one_result() =>
        Check.One(Runs, Prop.ForAll(CommandLines.ToArbitrary(), line =>
        {
            var whole = SmtpCommandParser.Parse(new ReadOnlySequence<byte>(line));
            var split = SmtpCommandParser.Parse(Bytes.Split(line, line.Length / 2, line.Length / 3));
            return (whole.Command is null) != (whole.Error is null)
                && whole.Error == split.Error
                && (whole.Command?.Verb == split.Command?.Verb);
        }));

    [Fact]
    public void Line_reader_never_throws_and_is_split_independent() =>
        Check.One(Runs, Prop.ForAll(SmtpishByte.ArrayOf().ToArbitrary(), Gen.Choose(0, 200).ToArbitrary(), (input, cut) =>
        {
            static string Read(ReadOnlySequence<byte> buffer)
            {
                var reader = new SmtpLineReader(16);
                var log = new System.Text.StringBuilder();
                LineStatus status;
                while ((status = reader.TryRead(ref buffer, out var line)) is LineStatus.Line or LineStatus.TooLong)
                {
                    log.Append(status).Append(line.Length).Append(';');
                }

                return log.Append(status).ToString();
            }

            return Read(new ReadOnlySequence<byte>(input)) == Read(Bytes.Split(input, cut, cut + 1));
        }));

    /// <summary>Input for DATA: text lines with dots, CR, LF, NUL and the terminator sprinkled in.</summary>
    private static readonly Gen<byte[]> DataInput = Gen.Frequency(
        (4, Gen.Elements<string>("a", "b", ".", "..", "\r\n", "\r\n.\r\n", "\r", "\n", "\0", "Received: x", ".\r\n", "\r\n\r\n")
            .Select(Bytes.Of)),
        (1, SmtpishByte.ArrayOf()))
        .ListOf()
        .Select(parts => parts.SelectMany(p => p).ToArray());

    [Fact]
    public void Data_reader_gives_the_same_result_for_any_chunking() =>
        Check.One(Runs, Prop.ForAll(DataInput.ToArbitrary(), Gen.Choose(0, 64).ArrayOf().ToArbitrary(), (input, cuts) =>
        {
            var whole = DataReaderTests.Run(input, maxSize: 40, maxLine: 12);
            var chunked = DataReaderTests.Run(input, 40, 12, [.. cuts.Select(c => c * input.Length / 64)]);
            return whole == chunked;
        }));

    [Fact]
    public void Dot_stuffing_then_reading_round_trips_any_crlf_text()
    {
        var line = Gen.Frequency((5, SmtpishByte), (1, Gen.Constant((byte)'.')))
            .ArrayOf()
            .Select(bytes => bytes.Where(b => b is not (byte)'\r' and not (byte)'\n').ToArray());
        var messages = line.ListOf().Select(lines => lines.ToArray());
        Check.One(Runs, Prop.ForAll(messages.ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (lines, cut) =>
        {
            byte[] original = [.. lines.SelectMany(l => (byte[])[.. l, 13, 10])];
            byte[] wire = [.. lines.SelectMany(l => (byte[])[.. l.Length > 0 && l[0] == '.' ? "."u8 : [], .. l, 13, 10]), .. ".\r\nNEXT"u8];
            var reader = new DataReader(maxSize: long.MaxValue, maxLineLength: int.MaxValue);
            var output = new ArrayBufferWriter<byte>();
            var buffer = Bytes.Split(wire, cut % (wire.Length + 1), (cut * 7) % (wire.Length + 1));
            var status = reader.Read(ref buffer, output);
            return status == DataStatus.Complete
                && output.WrittenSpan.SequenceEqual(original)
                && reader.Size == original.Length
                && Bytes.Text(buffer) == "NEXT";
        }));
    }

    [Fact]
    public void Data_reader_never_completes_on_input_with_a_bare_line_ending_before_the_terminator() =>
        Check.One(Runs, Prop.ForAll(DataInput.ToArbitrary(), input =>
        {
            var buffer = new ReadOnlySequence<byte>(input);
            var status = new DataReader(1 << 20).Read(ref buffer, new ArrayBufferWriter<byte>());
            var consumed = input.AsSpan(0, input.Length - (int)buffer.Length);
            var bare = false;
            for (var i = 0; i < consumed.Length; i++)
            {
                bare |= consumed[i] == '\n' && (i == 0 || consumed[i - 1] != '\r');
                bare |= consumed[i] == '\r' && i + 1 < consumed.Length && consumed[i + 1] != '\n';
            }

            return status != DataStatus.Complete || !bare;
        }));
}

using System.Buffers;
using System.Diagnostics;

namespace MailCluster.Smtp.Tests;

/// <summary>
/// Mutation fuzzing from the checked-in corpus (Corpus/*.txt: real sessions, DATA streams and the smuggling
/// variants), bounded in time so that it runs in every CI build. Each seed is mutated at random (bit flips,
/// inserted CR/LF/NUL/dot, deletions, duplicated ranges) and fed, in random chunks, through the line reader +
/// command parser and the DATA reader. Nothing may throw, every parse gives exactly one result, and DATA never
/// completes after a bare CR or LF. The run's seed is in the failure message, so a failure can be replayed.
/// </summary>
public class CorpusFuzzTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    public static TheoryData<string> Seeds()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Corpus"), "*.txt").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Mutated_corpus_never_breaks_the_readers(string seedFile)
    {
        var seed = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Corpus", seedFile));
        var runSeed = Environment.TickCount;
        var random = new Random(runSeed);
        var clock = Stopwatch.StartNew();
        var runs = 0;
        while (clock.Elapsed < Budget / 4 || runs < 200)
        {
            var input = Mutate(seed, random);
            var cuts = Enumerable.Range(0, random.Next(0, 8)).Select(_ => random.Next(0, input.Length + 1)).Order().ToArray();
            try
            {
                FeedCommands(input, cuts);
                FeedData(input, cuts);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{seedFile}, run seed {runSeed}, run {runs}: {ex}\ninput: {Convert.ToHexString(input)}");
            }

            runs++;
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        ReadOnlySpan<byte> interesting = [13, 10, 0, (byte)'.', (byte)'<', (byte)'>', (byte)':', (byte)'@', 0xC3, 0xFF];
        for (var i = random.Next(1, 6); i > 0 && bytes.Count > 0; i--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.Insert(at, interesting[random.Next(interesting.Length)]);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    var length = Math.Min(random.Next(1, 32), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                default:
                    bytes[at] = interesting[random.Next(interesting.Length)];
                    break;
            }
        }

        return [.. bytes];
    }

    private static IEnumerable<ReadOnlySequence<byte>> Chunks(byte[] input, int[] cuts)
    {
        foreach (var cut in cuts.Append(input.Length))
        {
            yield return new ReadOnlySequence<byte>(input, 0, cut);
        }
    }

    /// <summary>Feeds growing prefixes, as a pipe would, through the line reader and the parser.</summary>
    private static void FeedCommands(byte[] input, int[] cuts)
    {
        var reader = new SmtpLineReader(512);
        long consumed = 0;
        foreach (var prefix in Chunks(input, cuts))
        {
            var buffer = prefix.Slice(consumed);
            while (true)
            {
                var status = reader.TryRead(ref buffer, out var line);
                if (status == LineStatus.NeedMore)
                {
                    break;
                }

                if (status == LineStatus.BareLineEnding)
                {
                    return; // the connection answers 521 and closes
                }

                if (status == LineStatus.Line)
                {
                    var result = SmtpCommandParser.Parse(line);
                    Assert.True(result.Command is null != result.Error is null, "exactly one of command and error");
                }
            }

            consumed = prefix.Length - buffer.Length;
        }
    }

    private static void FeedData(byte[] input, int[] cuts)
    {
        var reader = new DataReader(4096);
        var output = new ArrayBufferWriter<byte>();
        long consumed = 0;
        var sawBare = false;
        foreach (var prefix in Chunks(input, cuts))
        {
            var buffer = prefix.Slice(consumed);
            var before = buffer;
            var status = reader.Read(ref buffer, output);
            var read = before.Slice(0, before.Length - buffer.Length).ToArray();
            var previous = consumed > 0 ? input[consumed - 1] : (byte)0;
            for (var i = 0; i < read.Length; i++)
            {
                var prior = i == 0 ? previous : read[i - 1];
                sawBare |= read[i] == '\n' && prior != '\r';
            }

            consumed = prefix.Length - buffer.Length;
            Assert.False(status == DataStatus.Complete && sawBare, "DATA completed after a bare LF");
            if (status != DataStatus.NeedMore)
            {
                return;
            }
        }
    }
}

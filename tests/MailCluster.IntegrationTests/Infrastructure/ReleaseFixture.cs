using System.Text;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A stored format written by a past release (<c>tests/fixtures/release-*/&lt;variant&gt;</c>, recreated by
/// <c>tests/fixtures/make-release.sh</c>), as copied to the test output: its manifest and, for a release that recorded
/// delivery events, what each reception and first attempt was.
/// </summary>
public sealed class ReleaseFixture
{
    private ReleaseFixture(string directory)
    {
        Directory = directory;
        Manifest = [.. File.ReadAllLines(Path.Combine(directory, "manifest.tsv")).Select(FixtureMessage.Parse)];
        var reception = Path.Combine(directory, "reception.tsv");
        Receptions = File.Exists(reception) ? [.. File.ReadAllLines(reception).Select(FixtureReception.Parse)] : [];
        var nextHop = Path.Combine(directory, "next-hop.tsv");
        NextHop = File.Exists(nextHop) ? File.ReadAllText(nextHop).TrimEnd('\n').Split('\t') is [var name, var address] ? (name, address) : null : null;
    }

    public string Directory { get; }

    public IReadOnlyList<FixtureMessage> Manifest { get; }

    /// <summary>reception.tsv (releases with delivery events); empty otherwise.</summary>
    public IReadOnlyList<FixtureReception> Receptions { get; }

    /// <summary>next-hop.tsv: the MX name and <c>ip:port</c> every first attempt went to; null without it.</summary>
    public (string Name, string Address)? NextHop { get; }

    public static ReleaseFixture Open(string release, string variant) =>
        new(Path.Combine(AppContext.BaseDirectory, "fixtures", release, variant));

    /// <summary>Copies <paramref name="files"/> of the fixture into <paramref name="dataDir"/>.</summary>
    public void CopyTo(string dataDir, params string[] files)
    {
        foreach (var file in files)
        {
            File.Copy(Path.Combine(Directory, file), Path.Combine(dataDir, file));
        }
    }

    /// <summary>The Subject field of a message's header section; null when it has none.</summary>
    public static string? Subject(byte[] data)
    {
        foreach (var line in Encoding.UTF8.GetString(data).Split("\r\n"))
        {
            if (line.Length == 0)
            {
                return null; // end of the header
            }

            if (line.StartsWith("Subject: ", StringComparison.OrdinalIgnoreCase))
            {
                return line["Subject: ".Length..];
            }
        }

        return null;
    }
}

/// <summary>One line of a fixture's manifest.tsv: queue id, sender, recipients (comma-separated), subject.</summary>
public sealed record FixtureMessage(string QueueId, string Sender, IReadOnlyList<string> Recipients, string Subject)
{
    public static FixtureMessage Parse(string line)
    {
        var fields = line.Split('\t');
        return new FixtureMessage(fields[0], fields[1], fields[2].Split(','), fields[3]);
    }
}

/// <summary>One line of reception.tsv: queue id, Message-ID, EHLO name, client address, credential, meta
/// (<c>name=value</c>, semicolon-separated); an empty field is none.</summary>
public sealed record FixtureReception(string QueueId, string MessageId, string PeerName, string PeerAddress, string? Credential, IReadOnlyDictionary<string, string>? Meta)
{
    public static FixtureReception Parse(string line)
    {
        var fields = line.Split('\t');
        var meta = fields[5].Length == 0 ? null
            : fields[5].Split(';').Select(pair => pair.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return new FixtureReception(fields[0], fields[1], fields[2], fields[3], fields[4].Length == 0 ? null : fields[4], meta);
    }
}

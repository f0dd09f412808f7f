using System.Globalization;
using System.Net;

namespace MailCluster.Host.Composition;

/// <summary>
/// The parts of <c>/etc/resolv.conf</c> (resolv.conf(5)) that decide how a name is looked up: the name servers, the
/// search list and <c>ndots</c>. DnsClient reads the servers but applies neither the search list nor ndots (its
/// issue #4), so a short name such as a Kubernetes Service's <c>mailcluster-nodes</c>, which every other program in
/// the pod resolves through <c>search &lt;namespace&gt;.svc.cluster.local ...</c>, would not resolve for it.
/// <see cref="Candidates"/> expands a name the way glibc's <c>res_search</c> does. Pure: parsing never throws.
/// </summary>
public sealed record ResolvConf(IReadOnlyList<IPAddress> Nameservers, IReadOnlyList<string> Search, int Ndots)
{
    public const string DefaultPath = "/etc/resolv.conf";

    /// <summary>glibc's cap on <c>ndots</c>.</summary>
    private const int MaxNdots = 15;

    /// <summary>Reads <paramref name="path"/>; null when it cannot be read (then the resolver's defaults apply).</summary>
    public static ResolvConf? Load(string path = DefaultPath)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Parses resolv.conf text. As in glibc: <c>search</c> and <c>domain</c> replace each other (the last one
    /// wins), <c>ndots</c> defaults to 1 and is capped at 15, lines starting with <c>#</c> or <c>;</c> are comments,
    /// unknown keywords and malformed values are ignored, and with no <c>nameserver</c> line the local host is asked.
    /// </summary>
    public static ResolvConf Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var nameservers = new List<IPAddress>();
        IReadOnlyList<string> search = [];
        var ndots = 1;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            switch (fields[0])
            {
                case "nameserver" when fields.Length > 1 && IPAddress.TryParse(fields[1], out var address):
                    nameservers.Add(address);
                    break;
                case "search":
                    search = [.. fields.Skip(1).Select(d => d.TrimEnd('.')).Where(d => d.Length > 0)];
                    break;
                case "domain" when fields.Length > 1:
                    search = [fields[1].TrimEnd('.')];
                    break;
                case "options":
                    foreach (var option in fields.Skip(1))
                    {
                        if (option.StartsWith("ndots:", StringComparison.Ordinal)
                            && int.TryParse(option.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                        {
                            ndots = Math.Min(n, MaxNdots);
                        }
                    }

                    break;
            }
        }

        return new ResolvConf(nameservers.Count == 0 ? [IPAddress.Loopback] : nameservers, search, ndots);
    }

    /// <summary>
    /// The names to query for <paramref name="name"/>, in order (glibc <c>res_search</c>): a name ending in a dot is
    /// absolute and asked as is; a name with at least <see cref="Ndots"/> dots is asked as is first, then with each
    /// search domain; any other name with each search domain first, then as is. With Kubernetes' <c>ndots:5</c>,
    /// <c>mailcluster-nodes</c> becomes <c>mailcluster-nodes.&lt;namespace&gt;.svc.cluster.local</c> first.
    /// </summary>
    public IReadOnlyList<string> Candidates(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.EndsWith('.'))
        {
            return [name.TrimEnd('.')];
        }

        var searched = Search.Select(domain => $"{name}.{domain}");
        var dots = name.Count(c => c == '.');
        return dots >= Ndots ? [name, .. searched] : [.. searched, name];
    }

    /// <summary>True when <paramref name="name"/> is short enough that the search list is tried before the name itself.</summary>
    public bool IsShort(string name) => !name.EndsWith('.') && name.Count(c => c == '.') < Ndots;
}

namespace MailCluster.Outbound.MtaSts;

/// <summary>
/// The <c>_mta-sts.&lt;domain&gt;</c> TXT record (RFC 8461 §3.1): <c>v=STSv1; id=20160831085700Z;</c>. Pure.
/// </summary>
public static class MtaStsRecord
{
    /// <summary>
    /// The policy id from the TXT strings of one answer (each record's strings already concatenated). Records not
    /// starting with "v=STSv1" are not MTA-STS and are ignored; none, more than one, or one without a valid id
    /// (1-32 letters and digits) means "no policy published" (§3.1), returned as null with the reason.
    /// </summary>
    public static (string? Id, string? Error) FindId(IEnumerable<string> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var sts = records.Where(r => r.StartsWith("v=STSv1", StringComparison.Ordinal)
            && (r.Length == 7 || r[7] is ';' or ' ' or '\t')).ToList();
        if (sts.Count != 1)
        {
            return (null, sts.Count == 0 ? "no v=STSv1 TXT record" : $"{sts.Count} v=STSv1 TXT records (exactly one allowed)");
        }

        string? id = null;
        foreach (string field in sts[0].Split(';').Skip(1))
        {
            string f = field.Trim(' ', '\t');
            if (f.Length == 0)
            {
                continue;
            }

            int eq = f.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return (null, $"TXT field \"{f}\" is not key=value");
            }

            if (f[..eq] == "id")
            {
                id ??= f[(eq + 1)..];
            }
        }

        return id is { Length: > 0 and <= 32 } && id.All(char.IsAsciiLetterOrDigit)
            ? (id, null)
            : (null, id is null ? "TXT record without id" : $"TXT id \"{id}\" is not 1-32 letters and digits");
    }
}

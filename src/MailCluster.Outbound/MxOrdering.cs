namespace MailCluster.Outbound;

/// <summary>The pure part of MX selection, separate from DNS so that it can be tested exhaustively.</summary>
public static class MxOrdering
{
    /// <summary>
    /// RFC 5321 §5.1: orders targets by ascending preference and shuffles targets of equal preference
    /// ("the sender-SMTP MUST randomize them to spread the load"). The input is not modified.
    /// </summary>
    public static IReadOnlyList<MxTarget> Order(IEnumerable<MxTarget> targets, Random random)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(random);
        var ordered = new List<MxTarget>();
        foreach (var group in targets.GroupBy(t => t.Preference).OrderBy(g => g.Key))
        {
            MxTarget[] equals = [.. group];
            random.Shuffle(equals);
            ordered.AddRange(equals);
        }

        return ordered;
    }

    /// <summary>
    /// RFC 7505 §3: a domain publishes a null MX as a single MX record whose exchange is the root (".").
    /// A "." mixed with real MX records is not a null MX; the resolver then ignores the "." entry.
    /// </summary>
    public static bool IsNullMx(IReadOnlyList<(string Exchange, int Preference)> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return records.Count == 1 && IsRoot(records[0].Exchange);
    }

    public static bool IsRoot(string exchange) => exchange is "" or ".";
}

using System.Text;

namespace MailCluster.Queue.Views;

/// <summary>
/// The order of the queue summary and its keyset paging, the same on every node and on the gathering node: rows by
/// one numeric key (<see cref="KeyOf"/>), ties and the <see cref="QueueSort.Domain"/> sort by entity id (ordinal,
/// always ascending, so the order is total). A page is "the first <c>limit</c> rows after the cursor"; every node
/// answers its own first rows after the cursor and the merge of those is the cluster's page, so no reply grows with
/// the page number. Pure.
/// </summary>
public sealed class QueueSummaryOrder : IComparer<QueueSummaryRow>
{
    private const string CursorPrefix = "q1.";

    public QueueSummaryOrder(QueueSort sort, bool descending)
    {
        Sort = sort;
        Descending = descending;
    }

    public QueueSort Sort { get; }

    public bool Descending { get; }

    /// <summary>The natural direction of each sort: oldest mail first, the biggest backlog first, domains A to Z.</summary>
    public static bool DefaultDescending(QueueSort sort) => sort is QueueSort.Pending or QueueSort.Deferred;

    /// <summary>The sort key: arrival in Unix milliseconds (an empty queue sorts as the newest), a count, or 0.</summary>
    public long KeyOf(QueueSummaryRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return Sort switch
        {
            QueueSort.Oldest => row.OldestArrivedAt?.ToUnixTimeMilliseconds() ?? long.MaxValue,
            QueueSort.Pending => row.Pending,
            QueueSort.Deferred => row.Deferred,
            _ => 0,
        };
    }

    public int Compare(QueueSummaryRow? x, QueueSummaryRow? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return Compare(KeyOf(x), x.Queue, KeyOf(y), y.Queue);
    }

    /// <summary>True when <paramref name="row"/> comes after the cursor (always true without one).</summary>
    public bool IsAfter(QueueSummaryRow row, QueueSummaryCursor? cursor) =>
        cursor is null || Compare(KeyOf(row), row.Queue, cursor.Key, cursor.Queue) > 0;

    public QueueSummaryCursor CursorOf(QueueSummaryRow row) => new(KeyOf(row), row.Queue);

    /// <summary>The first <paramref name="limit"/> rows after <paramref name="cursor"/>, in order.</summary>
    public IReadOnlyList<QueueSummaryRow> Page(IEnumerable<QueueSummaryRow> rows, QueueSummaryCursor? cursor, int limit)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return [.. rows.Where(r => IsAfter(r, cursor)).Order(this).Take(limit)];
    }

    /// <summary>The cursor as opaque URL-safe text, bound to its sort and direction.</summary>
    public string Encode(QueueSummaryCursor cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var text = $"{(int)Sort}|{(Descending ? 1 : 0)}|{cursor.Key}|{cursor.Queue}";
        return CursorPrefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The cursor in <paramref name="text"/>, or null when it is not one of this sort and direction.</summary>
    public QueueSummaryCursor? Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith(CursorPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var body = text[CursorPrefix.Length..].Replace('-', '+').Replace('_', '/');
        body = body.PadRight(body.Length + ((4 - (body.Length % 4)) % 4), '=');
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(body));
        }
        catch (FormatException)
        {
            return null;
        }

        var parts = decoded.Split('|', 4);
        return parts.Length == 4
            && parts[0] == ((int)Sort).ToString(System.Globalization.CultureInfo.InvariantCulture)
            && parts[1] == (Descending ? "1" : "0")
            && long.TryParse(parts[2], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long key)
            && parts[3].Length > 0
                ? new QueueSummaryCursor(key, parts[3])
                : null;
    }

    private int Compare(long xKey, string xQueue, long yKey, string yQueue)
    {
        int byKey = xKey.CompareTo(yKey);
        if (byKey != 0)
        {
            return Descending ? -byKey : byKey;
        }

        int byQueue = string.CompareOrdinal(xQueue, yQueue);
        return Sort == QueueSort.Domain && Descending ? -byQueue : byQueue;
    }
}

using System.Data.Common;
using System.Text.Json;

namespace MailCluster.Ops.Tasks;

/// <summary>The row shape of <c>mc_ops_task</c>, shared by both stores. The filter is stored as JSON: new filter
/// fields are added as optional properties, so old rows stay readable.</summary>
internal static class TaskRows
{
    public const string Columns = "id, action, filter_json, state, done, skipped, owner, resumed, created_at, updated_at, created_by, error";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string FilterJson(BulkTaskFilter filter) => JsonSerializer.Serialize(filter, Json);

    public static string ActionName(BulkAction action) => action == BulkAction.Bounce ? "bounce" : "delete";

    public static BulkAction? ParseAction(string? text) => text?.ToLowerInvariant() switch
    {
        "bounce" => BulkAction.Bounce,
        "delete" => BulkAction.Delete,
        _ => null,
    };

    /// <summary>Reads a row selected with <see cref="Columns"/>; times through <paramref name="time"/> (the stores keep
    /// them differently).</summary>
    public static BulkTask Read(DbDataReader reader, Func<int, DateTimeOffset> time) => new(
        reader.GetString(0),
        ParseAction(reader.GetString(1)) ?? BulkAction.Delete,
        JsonSerializer.Deserialize<BulkTaskFilter>(reader.GetString(2), Json) ?? new BulkTaskFilter(null, null, null, null),
        reader.GetString(3),
        reader.GetInt64(4),
        reader.GetInt64(5),
        reader.GetString(6),
        reader.GetInt32(7),
        time(8),
        time(9),
        reader.GetString(10),
        reader.IsDBNull(11) ? null : reader.GetString(11));
}

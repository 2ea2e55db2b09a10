namespace BusinessApi.Platform.Storage;

/// <summary>How logical storage names map to physical ones (a prefix isolates tests and side-by-side copies).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Letters and digits put in front of every table, queue and container name.</summary>
    public string TablePrefix { get; set; } = "";
}

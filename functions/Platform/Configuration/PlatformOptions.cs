namespace BusinessApi.Platform.Configuration;

/// <summary>Settings of the platform part that the composition root decides.</summary>
public sealed class PlatformOptions
{
    /// <summary>The folder that holds appsettings.json / local.settings.json; local-only files (secrets) live beneath it.</summary>
    public string RootPath { get; set; } = AppContext.BaseDirectory;

    /// <summary>The offset of the business's local day (audit partitions by local date).</summary>
    public TimeSpan LocalOffset { get; set; } = TimeSpan.Zero;
}

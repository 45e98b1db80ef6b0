namespace EdgeLm.Compression.Pruning;

/// <summary>
/// A model cannot be pruned as asked (quantized input, an unknown architecture, a width that does not fit, missing
/// calibration data, ...). The message names the problem; nothing was written.
/// </summary>
public sealed class PruneException(string message) : Exception(message);

namespace EdgeLm.Runtime.Sampling;

/// <summary>
/// One step of a sampler chain. A sampler narrows or reshapes the candidates (<see cref="Apply"/>), may learn from
/// the token finally chosen (<see cref="Accept"/>), and forgets what it learned on <see cref="Reset"/>.
/// </summary>
public interface ISampler
{
    /// <summary>Filters or rescales <paramref name="candidates"/> in place.</summary>
    void Apply(CandidateList candidates);

    /// <summary>Records the token that was chosen (prompt tokens are accepted too).</summary>
    void Accept(int token) { }

    /// <summary>Forgets all history, for a new sequence.</summary>
    void Reset() { }
}

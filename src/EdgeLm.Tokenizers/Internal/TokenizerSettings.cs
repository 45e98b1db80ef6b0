namespace EdgeLm.Tokenizers.Internal;

/// <summary>
/// The resolved special-token ids and flags of a tokenizer. <see cref="Resolve"/> applies llama.cpp's rules in its
/// order: the model's defaults, then the stated values, then detection of end-of-turn / FIM / end-of-generation tokens
/// by their text, then per-token quirks.
/// </summary>
internal sealed class TokenizerSettings
{
    public int? Bos { get; set; }
    public int? Eos { get; set; }
    public int? Eot { get; set; }
    public int? Eom { get; set; }
    public int? Unknown { get; set; }
    public int? Separator { get; set; }
    public int? Padding { get; set; }
    public int? FimPrefix { get; set; }
    public int? FimSuffix { get; set; }
    public int? FimMiddle { get; set; }
    public int? FimPad { get; set; }
    public int? FimRepository { get; set; }
    public int? FimSeparator { get; set; }
    public bool AddBos { get; set; }
    public bool AddEos { get; set; }
    public bool AddSep { get; set; }
    public bool AddSpacePrefix { get; set; }
    public bool CleanSpaces { get; set; }

    // Texts that mark a token as end of turn, in the order they are preferred (llama.cpp picks whichever its hash
    // map yields first; a fixed order keeps ours deterministic).
    private static readonly string[] s_endOfTurnTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];

    private static readonly string[] s_endOfGenerationTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
        "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ];

    private static readonly string[] s_fimPrefixTexts = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>"];
    private static readonly string[] s_fimSuffixTexts = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>"];
    private static readonly string[] s_fimMiddleTexts = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>"];
    private static readonly string[] s_fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] s_fimRepositoryTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] s_fimSeparatorTexts = ["<|file_sep|>"];

    /// <summary>
    /// Completes the settings of a table whose defaults were set by the caller: applies the stated ids and flags of
    /// the vocabulary, detects special tokens by text and marks attributes, then builds the special-token cache.
    /// </summary>
    public void Resolve(VocabularyTable table, TokenizerVocabulary source)
    {
        Bos = Stated(table, Bos, source.BosId);
        Eos = Stated(table, Eos, source.EosId);
        Eot = Stated(table, Eot, source.EotId);
        Eom = Stated(table, Eom, source.EomId);
        Unknown = Stated(table, Unknown, source.UnknownId);
        Separator = Stated(table, Separator, source.SeparatorId);
        Padding = Stated(table, Padding, source.PaddingId);

        AddBos = source.AddBos ?? AddBos;
        AddEos = source.AddEos ?? AddEos;
        AddSep = source.AddSep ?? AddSep;
        if (AddBos && Bos is null)
            throw new TokenizerFormatException("The vocabulary asks for a BOS token to be added but has no BOS token id.");
        if (AddEos && Eos is null)
            throw new TokenizerFormatException("The vocabulary asks for an EOS token to be added but has no EOS token id.");
        if (AddSep && Separator is null)
            throw new TokenizerFormatException("The vocabulary asks for a separator token to be added but has no separator id.");

        Eot ??= DetectControl(table, s_endOfTurnTexts);
        Eom ??= DetectControl(table, ["<|eom_id|>"]);
        FimPrefix = DetectControl(table, s_fimPrefixTexts);
        FimSuffix = DetectControl(table, s_fimSuffixTexts);
        FimMiddle = DetectControl(table, s_fimMiddleTexts);
        FimPad = DetectControl(table, s_fimPadTexts);
        FimRepository = DetectControl(table, s_fimRepositoryTexts);
        FimSeparator = DetectControl(table, s_fimSeparatorTexts);

        // Control tokens whose text says "unused" are unused.
        for (int id = 0; id < table.Count; id++)
        {
            if (table.Attributes(id).Has(TokenAttributes.Control) && table.Text(id).Contains("unused", StringComparison.Ordinal))
                table.AddAttributes(id, TokenAttributes.Unused);
        }

        BuildEndOfGeneration(table);

        // gpt-oss: these markers are always rendered, so they are user-defined rather than control.
        foreach (string text in (string[])["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
        {
            if (table.TryGetId(text, out int id))
                table.SetAttributes(id, TokenAttributes.UserDefined);
        }

        table.BuildSpecialTokenCache();
        ApplyNameQuirks(table, source.ModelName);
    }

    /// <summary>A stated id wins when it is inside the vocabulary; a default outside it is dropped.</summary>
    private static int? Stated(VocabularyTable table, int? fallback, int? stated)
    {
        if (fallback is { } f && !table.IsValid(f))
            fallback = null;
        return stated is { } s && table.IsValid(s) ? s : fallback;
    }

    private static int? DetectControl(VocabularyTable table, string[] texts)
    {
        foreach (string text in texts)
        {
            if (table.TryGetId(text, out int id))
            {
                table.AddAttributes(id, TokenAttributes.Control);
                return id;
            }
        }
        return null;
    }

    private void BuildEndOfGeneration(VocabularyTable table)
    {
        foreach (int? id in (int?[])[FimPad, FimRepository, FimSeparator])
        {
            if (id is { } v)
                table.AddEndOfGeneration(v);
        }
        foreach (string text in s_endOfGenerationTexts)
        {
            if (table.TryGetId(text, out int id))
            {
                table.AddEndOfGeneration(id);
                table.AddAttributes(id, TokenAttributes.Control);
            }
        }
        foreach (int? id in (int?[])[Eos, Eot, Eom])
        {
            if (id is { } v)
                table.AddEndOfGeneration(v);
        }

        // o200k_harmony / solar-open: with <|return|> and <|call|> (or <|calls|> and <|flush|>) present, <|end|>
        // ends a message, not the generation.
        bool Has(string text) => table.TryGetId(text, out int id) && table.IsEndOfGeneration(id);
        if (table.TryGetId("<|end|>", out int end) && table.IsEndOfGeneration(end)
            && ((Has("<|return|>") && (Has("<|call|>") || Has("<|calls|>"))) || ((Has("<|call|>") || Has("<|calls|>")) && Has("<|flush|>"))))
        {
            table.RemoveEndOfGeneration(end);
            table.SetAttributes(end, TokenAttributes.UserDefined);
        }

        // Gemma 4 (and PaddleOCR): with <|tool_response> present, </s> is an ordinary token.
        if (Has("<|tool_response>") && table.TryGetId("</s>", out int s) && table.IsEndOfGeneration(s))
        {
            table.RemoveEndOfGeneration(s);
            table.SetAttributes(s, TokenAttributes.Normal);
        }
    }

    /// <summary>Per-token attributes llama.cpp sets from the model name (they are not stored in GGUF).</summary>
    private static void ApplyNameQuirks(VocabularyTable table, string? modelName)
    {
        string name = (modelName ?? "").ToLowerInvariant();
        if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in table.SpecialTokens)
                table.AddAttributes(id, TokenAttributes.RStrip);
            if (table.TryGetId("</s>", out int eos))
                table.AddAttributes(eos, TokenAttributes.RStrip);
            foreach (string text in (string[])["<unk>", "<s>", "<|endoftext|>"])
            {
                if (table.TryGetId(text, out int id))
                    table.RemoveAttributes(id, TokenAttributes.RStrip);
            }
        }
    }
}

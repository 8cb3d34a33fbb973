#!/bin/sh
# heed-train end to end: every model trains a few steps and saves; a run
# resumed from its checkpoint writes the same bytes as one run straight
# through; bad input gets one line on stderr, a non-zero exit, and no file.
#   check_heed_train.sh path/to/heed-train scratch-folder
set -u
train=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
small="--embed_dim 16 --num_heads 2 --batch_size 8 --seq_length 8 --steps_per_epoch 4"
failed=0
fail() { echo "check_heed_train: FAILED: $*"; failed=1; }

for model in selfhead multihead focus bahdanau luong transformer; do
  heads="--num_heads 2"
  [ $model = selfhead ] && heads="--num_heads 1"
  "$train" --model $model $small $heads --epochs 1 --save_path $model.safetensors > $model.log 2>&1 ||
    fail "--model $model: $(tail -1 $model.log)"
  [ -s $model.safetensors ] || fail "--model $model saved no checkpoint"
done

# Two epochs straight, or one and then one more from the checkpoint: the same bytes
# (the transformer: dropout is reseeded per step, so it resumes exactly too).
for model in bahdanau transformer; do
  "$train" --model $model $small --epochs 2 --save_path straight.safetensors > /dev/null 2>&1 || fail "straight run"
  "$train" --model $model $small --epochs 1 --save_path resumed.safetensors > /dev/null 2>&1 || fail "first half"
  "$train" --load resumed.safetensors --epochs 2 --save_path resumed.safetensors > resume.log 2>&1 ||
    fail "resume: $(tail -1 resume.log)"
  grep -q "resuming after epoch 1" resume.log || fail "--model $model: the resumed run did not say it resumed"
  cmp -s straight.safetensors resumed.safetensors ||
    fail "--model $model: resuming after epoch 1 differs from training 2 epochs straight"
done

# bad input: "expected message" then the flags
printf 'garbage, not safetensors' > corrupt.safetensors
# A valid safetensors file that heed-train did not write: the data of a checkpoint without its metadata.
printf '\002\000\000\000\000\000\000\000{}' > plain.safetensors
while IFS='|' read -r expected flags; do
  [ -z "$expected" ] && continue
  rm -f out.safetensors
  # shellcheck disable=SC2086
  "$train" $flags --save_path out.safetensors > stdout.txt 2> stderr.txt
  status=$?
  [ $status -ne 0 ] || fail "'$flags' exited 0"
  [ "$(wc -l < stderr.txt)" -eq 1 ] || fail "'$flags' printed $(wc -l < stderr.txt) lines on stderr, not one"
  grep -qF -- "$expected" stderr.txt || fail "'$flags' said '$(cat stderr.txt)', not '$expected'"
  [ ! -e out.safetensors ] || fail "'$flags' left a checkpoint behind"
done <<'CASES'
--embed_dim must be from 1|--embed_dim -4
does not divide --embed_dim 30|--embed_dim 30 --num_heads 4
--batch_size takes a whole number|--batch_size lots
unknown flag '--bogus'|--bogus 3
--model gpt is not a model|--model gpt
its task is cue|--model multihead --task reverse
selfhead has one head|--model selfhead --num_heads 4
no-such.safetensors|--load no-such.safetensors
corrupt.safetensors|--load corrupt.safetensors
not a heed-train checkpoint|--load plain.safetensors
was trained with --embed_dim 16|--load bahdanau.safetensors --embed_dim 32
--learning_rate must be in|--learning_rate -1
CASES

[ $failed -eq 0 ] && echo "check_heed_train: every model trains and saves, resumption is exact, bad input gets one line"
exit $failed

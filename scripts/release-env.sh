# Sourced by the scripts that run release binaries. A release build looks for the models and the
# ONNX Runtime library beside the executable, in the app's resources or where these point (the
# source tree is searched by debug builds only): here they point at this tree's.
export FACECLOAK_MODELS="${FACECLOAK_MODELS:-$PWD/models}"
export FACECLOAK_ORT_LIB="${FACECLOAK_ORT_LIB:-$PWD/runtime/libonnxruntime.so}"

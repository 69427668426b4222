cat <<EOF | sh
rm $(id) `uname`
EOF

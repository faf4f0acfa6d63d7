printf '%s\n' "$CERT" > cert.pem
curl -sS --cacert cert.pem "https://127.0.0.1:$PORT/hello.txt"
curl -sS --cacert cert.pem -o got.txt -w '%{http_code} %{ssl_verify_result} %{size_download}\n' "https://127.0.0.1:$PORT/hello.txt"
curl -sS "https://127.0.0.1:$PORT/hello.txt" 2>&1; echo "unverified exit $?"

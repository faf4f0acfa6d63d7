printf '{"a":[1,2,3],"b":{"c":"x"}}' > in.json
jq -c '.a | map(. * 2)' in.json
jq -r .b.c in.json
jq -n '[range(5)] | add'
jq -n '"abcd" | test("b+c")'
jq --version
